"""What evalmix writes and reads back: the gold-provenance ledger and the review decision logs."""
