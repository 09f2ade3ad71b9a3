"""The outbox: pushes waiting to be sent, rendered for their recipient at send time."""
