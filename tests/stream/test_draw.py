from actzero.stream.draw import Caption, caption_text


def test_captions_say_no_action_in_words_without_an_unchosen_score():
    assert caption_text(3, Caption(None, 0.16)) == "#3 no action"
    assert caption_text(3, Caption("walking", 0.724)) == "#3 walking 0.72"
    assert caption_text(3, None) == "#3 ..."
    assert caption_text(-1, Caption("walking", 0.7)) == ""
