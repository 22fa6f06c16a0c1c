"""The message encoding against Schema/README.md and the Swift golden bytes: no server needed.

Uses the test schema's module (Tests/TestSupport/Schema/test.msrpc → generated/test_generated.py),
the same messages the Swift codec tests use.
"""

from __future__ import annotations

import unittest

import support  # noqa: F401 (sets sys.path)
from mailsync import DecodeError, Timestamp
from mailsync._codec import decode_varint, encode_varint, unzigzag, zigzag
from test_generated import AllTypes, Color, ColorHolder, Nested, NewerColor, NewerColorHolder, OlderAllTypes


def unhex(text: str) -> bytes:
    """Hex pairs at the start of each line; the rest of a line is a comment (as the Swift test)."""
    out = bytearray()
    for line in text.strip().splitlines():
        for word in line.split():
            if len(word) != 2:
                break
            try:
                out.append(int(word, 16))
            except ValueError:
                break
    return bytes(out)


# GoldenBytesTests.swift: the same message and bytes, worked out by hand from Schema/README.md.
GOLDEN = unhex("""
    08 03                          field 1 int32, varint: zigzag(-2) = 3
    10 d8 04                       field 2 int64: zigzag(300) = 600 = 0x258
    18 01                          field 3 uint32: 1
    20 ff ff ff ff ff ff ff ff ff 01   field 4 uint64: max, a 10-byte varint
    28 01                          field 5 bool: true
    31 00 00 00 00 00 00 f0 3f     field 6 double, fixed64 little-endian: 1.0
    3a 03 68 c3 a9                 field 7 string, length 3: "hé" in UTF-8
    42 02 ff 00                    field 8 bytes, length 2
    48 01                          field 9 timestamp: zigzag(-1) = 1
    50 04                          field 10 enum: green = 2, zigzag 4
    5a 03 0a 01 61                 field 11 message, length 3: { field 1 string "a" }
    a8 01 00                       field 21 optional int32, set to 0, so written
    ca 02 02 02 01                 field 41 packed int32, length 2: zigzag 1 -> 2, -1 -> 1
    fa 02 01 78                    field 47 repeated string: "x"
    fa 02 00                       field 47 repeated string: ""
    ea 03 06 0a 01 6b 12 01 76     field 61 map entry, length 6: key (1) "k", value (2) "v"
    f8 ff ff ff 0f 02              field 536870911 int32: a five-byte tag; zigzag(1) = 2
""")


def golden_message() -> AllTypes:
    return AllTypes(
        int32_value=-2, int64_value=300, uint32_value=1, uint64_value=2**64 - 1, bool_value=True, double_value=1.0,
        string_value="hé", bytes_value=b"\xff\x00", timestamp_value=Timestamp(-1), color=Color.GREEN,
        nested=Nested(label="a"), optional_int32=0, repeated_int32=[1, -1], repeated_string=["x", ""],
        string_to_string={"k": "v"}, far_away=1)


class GoldenBytesTests(unittest.TestCase):
    def test_the_fixed_message_encodes_to_the_documented_bytes(self) -> None:
        self.assertEqual(golden_message().encode().hex(" "), GOLDEN.hex(" "))

    def test_the_documented_bytes_decode_to_the_fixed_message(self) -> None:
        self.assertEqual(AllTypes.decode(GOLDEN), golden_message())

    def test_a_default_message_writes_only_its_singular_message_field(self) -> None:
        # Schema/README.md: "a default AllTypes encodes to 5a 00".
        self.assertEqual(AllTypes().encode(), bytes.fromhex("5a00"))

    def test_every_shape_survives_a_round_trip(self) -> None:
        message = AllTypes(
            double_value=-0.0, optional_string="", optional_nested=Nested(number=-7, color=Color.RED),
            repeated_int64=[-(2**63), 2**63 - 1], repeated_uint32=[0, 2**32 - 1], repeated_bool=[True, False],
            repeated_double=[0.5, -1e300], repeated_bytes=[b"", b"\x00"], repeated_timestamp=[Timestamp(1), Timestamp(-5)],
            repeated_color=[Color.GREEN, 99], repeated_nested=[Nested(), Nested(label="z")],
            int64_to_nested={-1: Nested(label="m"), 5: Nested()}, uint32_to_color={7: Color.RED},
            string_to_bytes={"b": b"\x01", "a": b""}, children=[AllTypes(int32_value=3)])
        decoded = AllTypes.decode(message.encode())
        self.assertEqual(decoded, message)
        self.assertEqual(decoded.encode(), message.encode())

    def test_map_entries_are_written_in_ascending_key_order(self) -> None:
        a = AllTypes(string_to_string={"b": "2", "a": "1"}).encode()
        b = AllTypes(string_to_string={"a": "1", "b": "2"}).encode()
        self.assertEqual(a, b)
        self.assertLess(a.index(b"\x0a\x01a"), a.index(b"\x0a\x01b"))


class UnknownFieldTests(unittest.TestCase):
    def test_an_older_reader_skips_and_keeps_fields_it_does_not_know(self) -> None:
        older = OlderAllTypes.decode(GOLDEN)
        self.assertEqual(older.int32_value, -2)
        self.assertEqual(older.nested.label, "a")
        self.assertTrue(older.unknown_fields)
        self.assertEqual(older.encode(), GOLDEN)  # the unknown fields come back out verbatim

    def test_unknown_wire_types_of_unknown_fields_are_skipped(self) -> None:
        # field 900 as fixed32 (wire type 5) and fixed64 (1), then field 1 = 1.
        unknown = bytes.fromhex("a53801020304") + bytes.fromhex("a1380102030405060708")
        message = OlderAllTypes.decode(unknown + bytes.fromhex("0802"))
        self.assertEqual(message.int32_value, 1)
        self.assertEqual(message.unknown_fields, unknown)

    def test_enum_values_this_build_does_not_know_survive_as_numbers(self) -> None:
        newer = NewerColorHolder(color=NewerColor.BLUE, colors=[NewerColor.RED, NewerColor.BLUE],
                                 by_id={1: NewerColor.BLUE}, maybe=NewerColor.BLUE)
        older = ColorHolder.decode(newer.encode())
        self.assertEqual(older.color, 3)
        self.assertNotIsInstance(older.color, Color)
        self.assertEqual(older.colors, [Color.RED, 3])
        self.assertIsInstance(older.colors[0], Color)
        self.assertEqual(older.encode(), newer.encode())


class VarintTests(unittest.TestCase):
    def test_edges_encode_as_documented(self) -> None:
        cases = {0: "00", 1: "01", 127: "7f", 128: "8001", 300: "ac02", 2**63: "80808080808080808001",
                 2**64 - 1: "ffffffffffffffffff01"}
        for value, expected in cases.items():
            with self.subTest(value=value):
                self.assertEqual(encode_varint(value).hex(), expected)
                self.assertEqual(decode_varint(bytes.fromhex(expected), 0, len(expected) // 2), (value, len(expected) // 2))

    def test_zigzag_maps_signed_to_unsigned_and_back(self) -> None:
        for signed, unsigned in [(0, 0), (-1, 1), (1, 2), (-2, 3), (2**63 - 1, 2**64 - 2), (-(2**63), 2**64 - 1)]:
            with self.subTest(signed=signed):
                self.assertEqual(zigzag(signed), unsigned)
                self.assertEqual(unzigzag(unsigned), signed)

    def test_overlong_truncated_and_out_of_range_varints_are_refused(self) -> None:
        for bad in ["ffffffffffffffffff02", "ffffffffffffffffffff01", "ff", "80"]:
            with self.subTest(bad=bad), self.assertRaises(DecodeError):
                decode_varint(bytes.fromhex(bad), 0, len(bad) // 2)
        for value in [-1, 2**64]:
            with self.subTest(value=value), self.assertRaises(ValueError):
                encode_varint(value)


class MalformedInputTests(unittest.TestCase):
    def assertRefused(self, message_type: type, hex_bytes: str, fragment: str) -> None:
        with self.assertRaises(DecodeError) as caught:
            message_type.decode(bytes.fromhex(hex_bytes))
        self.assertIn(fragment, str(caught.exception))

    def test_each_malformed_input_is_refused_naming_the_problem(self) -> None:
        self.assertRefused(AllTypes, "2802", "a bool must be 0 or 1")
        self.assertRefused(AllTypes, "3a02c328", "not valid UTF-8")
        self.assertRefused(AllTypes, "3a05616263", "exceeds the 3 that remain")
        self.assertRefused(AllTypes, "0a00", "expected wire type 0, got 2")
        self.assertRefused(AllTypes, "0b", "wire type 3")
        self.assertRefused(AllTypes, "00", "field number 0")
        self.assertRefused(AllTypes, "08feffffff1f", "does not fit in int32")
        self.assertRefused(AllTypes, "1880808080 10".replace(" ", ""), "does not fit in uint32")
        self.assertRefused(AllTypes, "31000000", "ends inside")

    def test_nesting_stops_at_64_levels(self) -> None:
        def nested(depth: int) -> bytes:  # `children` (field 70) inside children, `depth` messages deep
            data = b""
            for _ in range(depth - 1):
                data = bytes.fromhex("b204") + encode_varint(len(data)) + data
            return data
        AllTypes.decode(nested(64))
        with self.assertRaises(DecodeError) as caught:
            AllTypes.decode(nested(65))
        self.assertIn("nest deeper than the limit of 64", str(caught.exception))

    def test_numbers_outside_their_type_are_refused_when_encoding(self) -> None:
        for message in [AllTypes(int32_value=2**31), AllTypes(uint32_value=-1), AllTypes(uint64_value=2**64),
                        AllTypes(repeated_color=[2**31])]:
            with self.subTest(message=message), self.assertRaises(ValueError):
                message.encode()


class TimestampTests(unittest.TestCase):
    def test_datetimes_convert_exactly(self) -> None:
        import datetime
        moment = datetime.datetime(2026, 12, 6, 21, 5, 48, 123456, tzinfo=datetime.timezone.utc)
        self.assertEqual(Timestamp.from_datetime(moment).micros, 1_796_591_148_123_456)
        self.assertEqual(Timestamp.from_datetime(moment).to_datetime(), moment)
        self.assertEqual(Timestamp(-1).to_datetime(), datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone.utc))


if __name__ == "__main__":
    unittest.main()
