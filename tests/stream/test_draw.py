from actzero.stream.draw import Caption, caption_text


def test_captions_say_no_action_in_words_without_an_unchosen_score():
    assert caption_text(3, Caption(None, 0.16)) == "#3 no action"
    assert caption_text(3, Caption("walking", 0.724)) == "#3 walking 0.72"
    assert caption_text(3, None) == "#3 ..."
    assert caption_text(-1, Caption("walking", 0.7)) == ""


def _sample_picture():
    """The sample video's first frame as a viewer gets it: downscaled to 640 wide, through JPEG."""
    import cv2

    from actzero.stream.capture import SAMPLE_VIDEO
    from actzero.stream.protocol import ViewFrame, decode_view_frame, encode_view_frame
    from actzero.stream.publisher import view_picture

    capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
    ok, image = capture.read()
    capture.release()
    assert ok
    height, width = image.shape[:2]
    view = ViewFrame("cam0", 0, 0, 1.0, width, height, 0, view_picture(image, 640))
    return decode_view_frame(encode_view_frame(view)).picture


def _one_person(width: int, height: int):
    """A standing figure inside x in [0.55, 0.75], y in [0.40, 0.95] of the image, all landmarks seen."""
    import numpy as np

    from actzero.stream.frames import NUM_LANDMARKS, PoseFrame

    rng = np.random.default_rng(3)
    image = np.zeros((1, NUM_LANDMARKS, 3), np.float32)
    image[0, :, 0] = rng.uniform(0.57, 0.73, NUM_LANDMARKS)
    image[0, :, 1] = np.linspace(0.45, 0.93, NUM_LANDMARKS)
    image[0, 11], image[0, 23] = (0.60, 0.55, 0.0), (0.60, 0.75, 0.0)  # left shoulder above left hip
    world = np.zeros((1, NUM_LANDMARKS, 3), np.float32)
    visibility = np.ones((1, NUM_LANDMARKS), np.float32)
    return PoseFrame("cam0", 0, 1.0, width, height, image, world, visibility)


def test_the_live_frame_is_the_camera_picture_with_skeleton_and_status_drawn_on_it():
    import numpy as np

    from actzero.stream.draw import NO_TRACK, draw_live_frame

    picture = _sample_picture()
    height, width = picture.shape[:2]
    assert picture.mean() > 60  # a real frame, far from the old dark canvas (grey 30)
    before = picture.copy()
    frame = _one_person(1768, 994)  # normalised landmarks: the picture's size does not matter
    out = draw_live_frame(
        picture, frame, ["29.9 fps  latency 48 ms", "dropped: 3 pose busy, 1 viewer skipped"]
    )
    np.testing.assert_array_equal(picture, before)  # the input is not drawn on
    assert out.shape == picture.shape and out.dtype == np.uint8
    changed = (out != picture).any(axis=2)
    skeleton = np.zeros_like(changed)
    margin = 8  # line thickness and joint dots
    skeleton[int(0.45 * height) - margin : int(0.93 * height) + margin, int(0.57 * width) - margin :] = True
    skeleton[:, int(0.73 * width) + margin :] = False
    corner = np.zeros_like(changed)
    corner[: height // 4, : int(0.6 * width)] = True
    assert not (changed & ~skeleton & ~corner).any()  # everything else is the camera's picture
    assert changed[skeleton].mean() > 0.02  # the skeleton is drawn...
    shoulder_to_hip = out[round(0.65 * height), round(0.60 * width)]
    assert tuple(shoulder_to_hip.tolist()) == NO_TRACK  # ...in its colour, along its bones
    assert changed[corner].mean() > 0.05  # and the status lines are written in the corner
    assert out[~changed].mean() == picture[~changed].mean() > 60


def test_a_live_frame_without_poses_has_only_the_status_drawn():
    import numpy as np

    from actzero.stream.draw import draw_live_frame

    picture = _sample_picture()
    out = draw_live_frame(picture, None, ["0.0 fps"])
    changed = (out != picture).any(axis=2)
    assert changed.any() and not changed[picture.shape[0] // 4 :].any()
    np.testing.assert_array_equal(out[picture.shape[0] // 4 :], picture[picture.shape[0] // 4 :])
