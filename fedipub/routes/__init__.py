"""The HTTP routes: each turns a Request into plain values, calls services, and renders."""
