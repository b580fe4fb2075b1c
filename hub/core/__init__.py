"""The domain core: pieces, clients, sales. Services append journal entries and read
projections; they know nothing of HTTP, MQTT or devices."""
