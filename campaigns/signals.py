"""Signals other apps listen to; campaigns never imports them back (warmup sits above campaigns)."""

from django.dispatch import Signal

# Sent after a batch of accounting records has been committed. `failures` maps each sending IP with new
# failure records (campaigns.accounting.classify.FAILURES) in the batch to the (first, last) time_logged
# of those records: a listener looks at the stored events of those IPs in that range, never at the
# whole table. Receivers must be quick (enqueue a task); errors are logged, never raised to the import.
accounting_batch_imported = Signal()
