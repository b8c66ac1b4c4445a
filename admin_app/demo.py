"""Placeholder until the generator lands."""
def generate_demo(workers, managers, today, seed=2026, clients=100):
    return {}
