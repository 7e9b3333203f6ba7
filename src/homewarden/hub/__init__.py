"""The hub: what every command builds once and shares between cameras, integrations and the web app."""
