"""Billing providers: where people pay, and the events that tell us they did."""
