"""The words that describe an input rule say what the model does to the data it is given."""

from unet_desktop.core.io.input_rule import InputRule


def test_a_data_range_rule_without_fixed_bits_says_8_bit_is_fed_as_stored():
    text = InputRule("data-range").describe()
    assert "8-bit as stored" in text
    assert "by their own bit depth" in text  # 4095 is an example for 12-bit data, not the rule
    assert "(12-bit by 4095)" not in text


def test_a_data_range_rule_with_fixed_bits_names_its_divisor():
    assert InputRule("data-range", bits=12).describe().startswith("scaled by 4095 (12-bit")
