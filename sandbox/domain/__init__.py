"""Domain rules of the sandbox: pure Python over a World, never importing Flask."""
