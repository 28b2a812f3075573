"""The needs assessment: per pillar, recorded by the responsible officer,
proposing plan goals and the pillars to refer to a partner (issue 20)."""
