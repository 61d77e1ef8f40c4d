// Placeholder while the git source lands.
