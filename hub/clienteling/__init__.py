"""Clienteling: what an associate does with the client book beyond the sale. For now the
day's follow-ups (a date to remember coming up, a fine purchase to call back about) and
their outcomes; appointments, wish lists, tiers and recommendations are to come."""
