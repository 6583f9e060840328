"""Drawing pieces the panels share: plot styling and colour maps, typeset math."""
