"""The conversation engine: sessions, interviewers, review gate, store and configuration."""
