"""The profile, validated once into a frozen typed tree, and the thresholds each gate is held to."""
