"""KPIs and IPS fidelity figures: pure rules over plain records; records.py is the one reader of case files."""
