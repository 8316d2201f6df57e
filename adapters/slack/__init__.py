"""The Slack adapter: Bolt in, Block Kit out."""
