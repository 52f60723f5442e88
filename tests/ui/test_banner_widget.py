"""The message strip: a sticky outcome stays above later messages until the banner is dismissed."""

from __future__ import annotations

from app.ui.banner_widget import BannerWidget


def test_a_sticky_message_stays_above_the_next_until_dismissed(qtbot) -> None:
    banner = BannerWidget()
    qtbot.addWidget(banner)
    banner.show_message("Adapted to 5 reviewed photos; grade agreement 100 → 83 %", "warning", sticky=True)
    banner.show_message("p0.png was analysed again", "info")
    assert banner.text == "p0.png was analysed again" and banner.level == "info"
    assert (
        banner.whole == "Adapted to 5 reviewed photos; grade agreement 100 → 83 %\np0.png was analysed again"
    )
    assert "#fff4d6" in banner.styleSheet()  # drawn as the warning it carries, not as the newest's info
    banner.dismiss()
    banner.show_message("Another photo", "info")
    assert banner.whole == "Another photo" and "#e8f0fe" in banner.styleSheet()


def test_messages_without_sticky_replace_each_other(qtbot) -> None:
    banner = BannerWidget()
    qtbot.addWidget(banner)
    banner.show_message("first", "error")
    banner.show_message("second", "info")
    assert banner.whole == banner.text == "second" and banner.level == "info"
