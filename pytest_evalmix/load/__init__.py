"""Every file the plugin reads or writes: readers per format, path safety, atomic writes,
the fast loader, results, the ledger and decision logs."""
