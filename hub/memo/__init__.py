"""Memo and consignment: pieces the store sells but does not own (issue #13)."""
