"""Signals other apps listen to; campaigns never imports them back (warmup sits above campaigns)."""

from django.dispatch import Signal

# Sent after a batch of accounting records has been committed. `events` is a list of dicts with
# source_ip, rcpt_domain, outcome, dsn_diag and time_logged of the records that were new in the batch.
accounting_batch_imported = Signal()
