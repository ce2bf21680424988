"""Near-duplicates on real JPEGs: planted copies are grouped, different pictures are not."""

from __future__ import annotations

import random

import pytest

from tdm_desktop.core.image_analysis import analyze_bytes
from tdm_desktop.core.near_duplicates import (
    DEFAULT_THRESHOLD,
    DuplicateGroup,
    group_near_duplicates,
    group_numbers,
    hamming_distance,
)
from tests.images import cropped, jpeg, picture, resized

SIZE = (768, 768)


def hashes_of(images: dict[str, bytes]) -> list[tuple[str, int]]:
    result = []
    for name, data in images.items():
        analysis = analyze_bytes(name, data)
        assert analysis.phash is not None, name
        result.append((name, analysis.phash))
    return result


def test_planted_near_duplicates_are_grouped_and_distinct_pictures_are_not():
    a, b, c = picture(11, SIZE), picture(12, SIZE), picture(13, SIZE)
    images = {
        "a.jpg": jpeg(a, 90),
        "b.jpg": jpeg(b, 90),
        "a_q60.jpg": jpeg(a, 60),  # the same picture re-encoded at another quality
        "c.jpg": jpeg(c, 90),
        "b_95.jpg": jpeg(resized(b, 0.95)),  # a 95 % resize
        "c_crop.jpg": jpeg(cropped(c, 0.02)),  # a 2 % crop
        "d.jpg": jpeg(picture(14, SIZE)),
        "e.jpg": jpeg(picture(15, SIZE)),
    }
    groups = group_near_duplicates(hashes_of(images))

    assert groups == [
        DuplicateGroup(1, ("a.jpg", "a_q60.jpg")),
        DuplicateGroup(2, ("b.jpg", "b_95.jpg")),
        DuplicateGroup(3, ("c.jpg", "c_crop.jpg")),
    ]
    assert group_numbers(groups) == {
        "a.jpg": 1,
        "a_q60.jpg": 1,
        "b.jpg": 2,
        "b_95.jpg": 2,
        "c.jpg": 3,
        "c_crop.jpg": 3,
    }


def test_distinct_pictures_differ_in_far_more_bits_than_the_threshold():
    hashes = dict(hashes_of({f"{i}.jpg": jpeg(picture(20 + i, SIZE)) for i in range(8)}))
    distances = [hamming_distance(hashes[x], hashes[y]) for x in hashes for y in hashes if x < y]
    assert min(distances) > DEFAULT_THRESHOLD
    assert group_near_duplicates(list(hashes.items())) == []


def test_numbering_follows_the_first_image_and_does_not_depend_on_the_rest_of_the_order():
    pairs = [
        ("x1", 0b1111),
        ("y1", 1 << 60),
        ("x2", 0b0111),
        ("y2", (1 << 60) | 1),
        ("z", 0xFFFF << 20),
    ]
    assert group_near_duplicates(pairs, threshold=2) == [
        DuplicateGroup(1, ("x1", "x2")),
        DuplicateGroup(2, ("y1", "y2")),
    ]
    assert group_near_duplicates(pairs[::-1], threshold=2) == [
        DuplicateGroup(1, ("y2", "y1")),
        DuplicateGroup(2, ("x2", "x1")),
    ]


def test_groups_chain_through_a_shared_neighbour():
    pairs = [("a", 0), ("b", 0b11), ("c", 0b1111)]  # a-b 2 bits, b-c 2 bits, a-c 4 bits
    assert group_near_duplicates(pairs, threshold=2) == [DuplicateGroup(1, ("a", "b", "c"))]
    assert group_near_duplicates(pairs, threshold=1) == []


def test_thousands_of_hashes_group_only_the_planted_pairs():
    rng = random.Random(5)
    pairs = [(f"img_{i}.jpg", rng.getrandbits(64)) for i in range(3000)]
    planted = {}
    for source in (7, 1500, 2999):
        name, value = pairs[source]
        copy = value ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64))
        pairs.append((f"copy_of_{name}", copy))
        planted[name] = f"copy_of_{name}"
    groups = group_near_duplicates(pairs, threshold=4)
    assert [set(g.filenames) for g in groups] == [{k, v} for k, v in planted.items()]


def test_a_threshold_outside_the_hash_is_refused():
    with pytest.raises(ValueError, match=r"0\.\.63"):
        group_near_duplicates([("a", 1), ("b", 2)], threshold=64)
    assert group_near_duplicates([("a", 1)]) == []
