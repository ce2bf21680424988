"""The sort orders the window's proxy will use: pure keys over images and what is known."""

from __future__ import annotations

import dataclasses

import pytest

from tdm_desktop.core.review_sort import ReviewFacts, SortOrder, sort_key, sorted_images
from tests.factories import training_image


def images(*dates: str):
    result = []
    for index, date in enumerate(dates):
        image = training_image(index)
        result.append(dataclasses.replace(image, modified_date=date))
    return result


def names(ordered) -> list[int]:
    return [image.index for image in ordered]


def test_manifest_order_is_the_default_and_newest_first_sorts_by_modified_date():
    shots = images(
        "2025-10-17T15:57:00.000000",
        "2025-10-18T09:00:00.000000",
        "not a date",
        "2025-10-16T00:00:00.000Z",
    )
    assert names(sorted_images(shots[::-1], SortOrder.MANIFEST)) == [0, 1, 2, 3]
    assert names(sorted_images(shots, SortOrder.NEWEST)) == [1, 0, 3, 2]


def test_filename_order_is_natural():
    shots = [
        dataclasses.replace(training_image(i), filename=name)
        for i, name in enumerate(["img_10.jpg", "IMG_2.jpg", "img_1.jpg", "a.jpg"])
    ]
    ordered = sorted_images(shots, SortOrder.FILENAME)
    assert [image.filename for image in ordered] == [
        "a.jpg",
        "img_1.jpg",
        "IMG_2.jpg",
        "img_10.jpg",
    ]


def test_blur_problems_and_duplicates_put_unknown_images_last_in_manifest_order():
    shots = images(*["2025-10-17T15:57:00.000000"] * 5)
    facts = {
        shots[0].filename: ReviewFacts(sharpness=900, problem_count=0),
        shots[1].filename: ReviewFacts(sharpness=40, problem_count=2, duplicate_group=2),
        shots[3].filename: ReviewFacts(sharpness=300, problem_count=1, duplicate_group=1),
        shots[4].filename: ReviewFacts(sharpness=40, problem_count=0, duplicate_group=2),
    }
    assert names(sorted_images(shots, SortOrder.BLUR, facts)) == [1, 4, 3, 0, 2]
    assert names(sorted_images(shots, SortOrder.PROBLEMS, facts)) == [1, 3, 0, 4, 2]
    assert names(sorted_images(shots, SortOrder.DUPLICATES, facts)) == [3, 1, 4, 0, 2]


def test_every_order_is_total_and_accepts_no_facts():
    shots = images(*["2025-10-17T15:57:00.000000"] * 3)
    for order in SortOrder:
        assert names(sorted_images(shots[::-1], order)) == [0, 1, 2]
    with pytest.raises(ValueError, match="unknown sort order"):
        sort_key("sideways", shots[0])  # type: ignore[arg-type]
