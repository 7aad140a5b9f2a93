DROP TABLE token_handoffs;
