"""Jewelry money: gift cards, store credit, and cards of the chain's other stores."""
