"""Telling the rest of the home: the hub's message bus, MQTT / Home Assistant, webhooks, doorbells, voice, push."""
