"""Device simulators speaking the real wire formats over a pty or a socket.

Tests and `loupe demo` drive the real drivers against these, so the parsing and framing that
run in a shop are the code under test. Each serial simulator publishes a stable symlink
(like /dev/serial/by-id) that is re-pointed when the simulated cable is re-plugged.
"""
