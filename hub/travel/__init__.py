"""Travellers' money: foreign currency tenders at HQ's rates, and tax-free forms."""
