"""Online serving: a framework-free core (`core`, `metrics`) under a thin web app (`app`)."""
