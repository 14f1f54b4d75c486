"""Address validation ("list hygiene"): syntax, DNS, disposable and role checks of a tenant's list.

No mailbox is ever probed over SMTP: RCPT TO probing gets the probing IPs listed on blocklists, and the
answers are unreliable anyway (catch-all domains, greylisting, tarpits).
"""
