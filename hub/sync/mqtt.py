"""One way to make an MQTT client, for the hub, HQ, the CLI and the benchmark: MQTT 5 with a
persistent session (clean start off + session expiry) so QoS 1 messages queued while a side
is away are delivered when it comes back."""

from __future__ import annotations

import socket

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.sync.settings import Broker, TlsFiles


def make_client(broker: Broker, identifier: str, *, tls: TlsFiles | None = None,
                will: aiomqtt.Will | None = None, persistent: bool = True,
                session_expiry_s: int = 7 * 86_400, keepalive_s: int = 30,
                inflight: int = 64, timeout: float = 10.0) -> aiomqtt.Client:
    props = Properties(PacketTypes.CONNECT)
    if persistent:
        props.SessionExpiryInterval = session_expiry_s
    tls_context = None
    if broker.tls:
        if tls is None:
            raise ValueError(f"{broker.url} needs TLS files (CA, client certificate)")
        tls_context = tls.context()
    client = aiomqtt.Client(
        broker.host, broker.port, identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5, clean_start=not persistent, properties=props,
        will=will, keepalive=keepalive_s, tls_context=tls_context,
        max_inflight_messages=inflight, timeout=timeout,
        # Without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to each small PUBACK/ack.
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    client.pending_calls_threshold = max(inflight, 16)  # pipelined publishes are expected
    return client
