"""After the contact, the customer is told what was done (issue 14, item 5).

The agent writes a summary for the customer at wrap-up. The widget shows it (at once if it
is open, else on the next page load while the visitor token holds) with a one-question
rating and "Not solved", which reopens the request ahead in line as a follow-up of that
contact; a customer with an e-mail address is also sent the summary (``mail``, in their
language: ``words``). ``feature`` is the sockets' side; the reports read the ratings and
reopens (``desktop/analytics/satisfaction.py``).
"""
