"""Pure inference and shared definitions: skeleton layouts, mappings, canonicalisation, ONNX bundle."""
