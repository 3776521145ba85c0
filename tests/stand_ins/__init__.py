"""Stand-ins for what these machines lack: tegrastats, a TensorFlow-free job image."""
