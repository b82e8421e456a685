"""The trained models and the one service that reads drawings with them. No Flask here."""
