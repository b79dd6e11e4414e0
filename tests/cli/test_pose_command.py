from typer.testing import CliRunner

from actzero.cli.main import app

runner = CliRunner()


def test_pose_help_shows_an_example():
    result = runner.invoke(app, ["pose", "--help"])
    assert result.exit_code == 0
    assert "actzero pose --source sample" in result.output


def test_missing_source_is_a_clear_error_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["pose", "--source", str(tmp_path / "none.mp4")])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output and "Traceback" not in result.output


def test_remote_bind_needs_allow_remote():
    result = runner.invoke(app, ["pose", "--source", "sample", "--publish", "tcp://0.0.0.0:5598"])
    assert result.exit_code == 1
    assert "--allow-remote" in result.output


def test_publishes_every_frame_of_a_folder_and_reports(tmp_path):
    import cv2

    from actzero.stream.capture import SAMPLE_VIDEO

    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    for i in range(3):
        ok, frame = capture.read()
        assert ok
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), cv2.resize(frame, (320, 180)))
    capture.release()
    address = f"ipc://{tmp_path}/poses.sock"
    result = runner.invoke(app, ["pose", "--source", str(tmp_path), "--publish", address, "--every-frame"])
    assert result.exit_code == 0, result.output
    assert "done: 3 frames published, 3 captured, 0 dropped" in result.output
