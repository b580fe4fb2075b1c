from hub.cli import main

if __name__ == "__main__":  # not when a worker process (hub/ledger/audit.py) imports it
    raise SystemExit(main())
