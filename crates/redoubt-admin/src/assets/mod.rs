//! The editor's static assets (owner: editor-assets work).
