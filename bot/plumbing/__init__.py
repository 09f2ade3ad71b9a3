"""Channel-neutral plumbing shared by every feature: messages, voice, routes, router."""
