"""The customer's side of the service (issue 10 item 3): public requests, customer links, status page and survey."""
