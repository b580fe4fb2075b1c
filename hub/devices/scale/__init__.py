"""Scales: Mettler Toledo MT-SICS and the Toledo 8217 polling protocol."""
