"""✨ Generate Single Image and 🎨 Generate All Prompts: controller, presenter and dialogs."""
