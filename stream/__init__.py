"""Everything that moves frames: capture, pose estimation, wire protocol, tracker, worker, control."""
