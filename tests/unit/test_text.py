"""Unit tests for bot.text: normalisation, folding, abbreviations, language."""

import unicodedata

import pytest

from bot.text import corpus_readings, detect_language, expand_abbreviations, fold, normalize, prepare, segment, vietnamese_gloss


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# --- normalize: Unicode and tone placement ------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Tôi muốn hủy đơn hàng", "Chăm sóc khách hàng", "Nguyễn Thị Hòa", "ĐƯỢC KHÔNG Ạ"],
)
def test_nfd_and_nfc_input_normalize_identically(text):
    assert nfd(text) != text  # the test really feeds decomposed input
    assert normalize(nfd(text)) == normalize(text) == text


def test_output_is_nfc():
    out = normalize(nfd("Thuyền hoà bình, khoẻ không?"))
    assert unicodedata.is_normalized("NFC", out)


def test_combining_marks_in_any_order_compose():
    # Some keyboards emit the tone before the hat: e + dot below + circumflex.
    assert normalize("e\u0323\u0302") == normalize("e\u0302\u0323") == "ệ"


@pytest.mark.parametrize(
    "new_style, old_style",
    [
        ("hoà", "hòa"),
        ("hoá đơn", "hóa đơn"),
        ("Thuý", "Thúy"),
        ("khoẻ", "khỏe"),
        ("xoè", "xòe"),
        ("loè loẹt", "lòe loẹt"),
        ("huỷ đơn", "hủy đơn"),
        ("tuỳ chọn", "tùy chọn"),
        ("thuỷ", "thủy"),
        ("oà khóc", "òa khóc"),
        ("uỷ ban", "ủy ban"),
        ("HOÀ", "HÒA"),
        ("Hoà Bình", "Hòa Bình"),
        ("ÔNG THUỴ", "ÔNG THỤY"),
        ("hoả tốc!", "hỏa tốc!"),
    ],
)
def test_new_style_tone_marks_become_old_style(new_style, old_style):
    assert normalize(new_style) == old_style
    assert normalize(old_style) == old_style


def test_both_tone_styles_are_one_word():
    assert normalize("hoà") == normalize("hòa")
    assert normalize("Tôi muốn HUỶ đơn") == normalize("Tôi muốn HỦY đơn")


@pytest.mark.parametrize(
    "word",
    ["hoàn", "hoàng", "thuyền", "khuỷu", "quý", "quỳnh", "quá", "già", "giữ", "giúp", "xoáy",
     "khuya", "hoài"],
)
def test_unambiguous_placement_is_left_alone(word):
    assert normalize(word) == word


@pytest.mark.parametrize("typo, fixed", [("qúa", "quá"), ("qủy", "quỷ"), ("gìa", "già")])
def test_tone_on_the_u_of_qu_or_i_of_gi_moves_to_the_vowel(typo, fixed):
    assert normalize(typo) == fixed


# --- normalize: cleanup ------------------------------------------------------


def test_whitespace_collapsed_and_trimmed():
    assert normalize("  xin \t chào\n\n shop\u00a0ơi  ") == "xin chào shop ơi"


def test_zero_width_and_control_characters_removed():
    assert normalize("hủ\u200by đơn\ufeff") == "hủy đơn"
    assert normalize("đơn\x00 hàng\x07") == "đơn hàng"
    # A zero-width character between a letter and its tone must not block NFC.
    assert normalize("hu\u200b\u0309y") == "hủy"


def test_emoji_zwj_sequence_is_kept():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert normalize(f"cảm ơn {family}") == f"cảm ơn {family}"


def test_fancy_quotes_and_dashes():
    assert normalize("“Áo” – size ‘M’ — còn không…") == "\"Áo\" - size 'M' - còn không..."


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sao lâu vậy???", "sao lâu vậy?"),
        ("giao hàng đi!!!!!", "giao hàng đi!"),
        ("ừm......", "ừm..."),
        ("thật à??", "thật à??"),  # two is not a run
        ("đâuuuuu", "đâu"),
        ("khôngggg", "không"),
        ("nhaaaaa shop", "nha shop"),
        ("cool", "cool"),  # doubled letters are fine
        ("kkkkkk", "kkk"),  # a whole word of one letter stays a non-word
    ],
)
def test_repeated_punctuation_and_letters(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\n\t"])
def test_empty_and_blank(text):
    assert normalize(text) == ""
    assert fold(text) == ""


def test_emoji_and_other_scripts_survive():
    assert normalize("😂😂😂") == "😂😂😂"
    assert normalize("你好 世界") == "你好 世界"
    assert normalize("Привет") == "Привет"
    assert normalize("สวัสดีครับ") == "สวัสดีครับ"


def test_normalize_is_idempotent():
    samples = ["Thuý hoà khoẻ???", "  ĐÂUUUUU  ", "ko dc… “ok”", nfd("Uỷ ban nhân dân")]
    for s in samples:
        once = normalize(s)
        assert normalize(once) == once


def test_non_str_is_a_clear_error():
    with pytest.raises(TypeError):
        normalize(None)  # type: ignore[arg-type]


def test_100kb_input_returns():
    chunk = "Tôi muốn huỷ đơn hàng ko dc 50k sao v??? đâuuuuu 😂 \u200b "
    big = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    out = prepare(big)
    assert "😂" not in out.text and "😂" in out.original  # read without emoji, kept as typed
    assert "hủy đơn hàng" in out.text
    assert "huy don hang" in out.shadow
    assert detect_language(big) == "vi"


# --- fold ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Tôi muốn HUỶ đơn", "toi muon huy don"),
        ("Đặt hàng ĐƯỢC không?", "dat hang duoc khong?"),
        ("đ Đ", "d d"),
        ("Chăm sóc khách hàng", "cham soc khach hang"),
        ("Nguyễn Thị Ánh Tuyết", "nguyen thi anh tuyet"),
        ("ưu đãi ơi ỉ ỹ", "uu dai oi i y"),
        ("café", "cafe"),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


def test_fold_equal_for_all_spellings_of_a_word():
    spellings = ["hòa", "hoà", nfd("hoà"), "HÒA", "hoa"]
    assert {fold(s) for s in spellings} == {"hoa"}


# --- expand_abbreviations ---------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sdt shop la j z", "số điện thoại shop la gì vậy"),
        ("ko dc", "không được"),
        ("quên mk r", "quên mật khẩu rồi"),
        ("mk quên r", "mình quên rồi"),
        ("đổi mk ví ntn", "đổi mật khẩu ví như thế nào"),
        ("tạo qr cho ng khác ck vào ví mk", "tạo qr cho người khác chuyển khoản vào ví mình"),
        ("Ko dc ad ơi", "Không được admin ơi"),
        ("sp này bn tiền v shop", "sản phẩm này bao nhiêu tiền vậy shop"),
        ("ck vào stk nào ạ", "chuyển khoản vào số tài khoản nào ạ"),
        ("dh của e bh tới", "đơn hàng của e bao giờ tới"),
        ("cho mình gặp nv", "cho mình gặp nhân viên"),
        ("đổi sđt ntn vậy", "đổi số điện thoại như thế nào vậy"),
        ("ib cho mn vs", "nhắn tin cho mọi người với"),
        ("e cx ms đặt trc", "e cũng mới đặt trước"),
        ("hông có tk", "không có tài khoản"),
        ("oke shop", "ok shop"),
        ("mình muốn đk tk", "mình muốn đăng ký tài khoản"),
        ("sao v?", "sao vậy?"),
    ],
)
def test_teencode_sentences(text, expected):
    assert expand_abbreviations(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ad ơi đky ví ntn vậy", "admin ơi đăng ký ví như thế nào vậy"),
        ("mất đt r lm sao bây giờ", "mất điện thoại rồi làm sao bây giờ"),
        ("mún đổi tg nhận tn", "muốn đổi thời gian nhận tin nhắn"),
        ("ngta ns là đc mà", "người ta nói là được mà"),
    ],
)
def test_more_chat_forms(text, expected):
    assert expand_abbreviations(text) == expected


@pytest.mark.parametrize(
    "typed, written",
    [
        ("đăng kí tài khoản", "đăng ký tài khoản"),
        ("Kí tên ở đâu", "Ký tên ở đâu"),
        ("lí do bị khóa", "lý do bị khóa"),
        ("qui định đổi trả", "quy định đổi trả"),
        ("KĨ THUẬT", "KỸ THUẬT"),
        ("bác sỹ", "bác sĩ"),
    ],
)
def test_both_spellings_of_i_and_y_are_one(typed, written):
    """A customer's "đăng kí" finds the FAQ's "đăng ký", accents or not."""
    assert expand_abbreviations(typed) == written
    assert prepare(typed).shadow == prepare(written).shadow
    assert prepare(fold(typed)).shadow == prepare(written).shadow


@pytest.mark.parametrize("text", ["mì tôm", "chờ tí nhé", "lì xì"])
def test_words_spelled_only_with_i_stay(text):
    assert expand_abbreviations(text) == text


def test_mixed_vietnamese_english():
    assert expand_abbreviations("ship COD dc ko shop") == "giao hàng COD được không shop"


@pytest.mark.parametrize(
    "text",
    [
        "giá 50k",
        "giá 50 k",
        "áo 150K ship 20k",  # only "ship" changes
        ":v",  # emoticon, not "vậy"
        "k-pop",
        "ad@shop.vn",
        "v thì sao",  # "v" only at the end of a sentence
        "shop",
        "e hỏi a",
    ],
)
def test_things_that_are_not_abbreviations_stay(text):
    expected = text.replace("ship", "giao hàng")
    assert expand_abbreviations(text, language="vi") == expected


def test_expansion_keeps_surrounding_text_and_capitals():
    assert expand_abbreviations("Chào shop, SDT: 0912 345 678 nhé!") == (
        "Chào shop, SỐ ĐIỆN THOẠI: 0912 345 678 nhé!"
    )


def test_english_text_is_not_expanded():
    # In English "k" means "ok": reading it as "không" would flip the meaning.
    assert expand_abbreviations("k thanks") == "k thanks"
    assert expand_abbreviations("I saw your ad on facebook") == "I saw your ad on facebook"
    assert expand_abbreviations("k thanks", language="vi") == "không thanks"


def test_expand_empty():
    assert expand_abbreviations("") == ""


UNIVERSITY = ["Trường đại học có ký túc xá không?", "Điểm chuẩn đại học năm nay là bao nhiêu?",
              "Mỗi thí sinh được đăng ký bao nhiêu nguyện vọng?"]
CLINIC = ["Bác sĩ khám vào những ngày nào?", "Có cần nhịn ăn trước khi xét nghiệm máu không?"]
SHOP = ["Làm sao để theo dõi đơn hàng?", "Cần bổ sung giấy tờ gì để đổi hàng?"]


def test_an_faq_settles_what_its_customers_abbreviations_mean():
    """"đh" is "đại học" to a university and stays "đơn hàng" to a shop; "bs" is "bác sĩ"
    to a clinic; an abbreviation whose readings the FAQ never uses is left as typed."""
    university, clinic, shop = (corpus_readings(texts) for texts in (UNIVERSITY, CLINIC, SHOP))
    assert university == {"đh": "đại học", "dh": "đại học", "nv": "nguyện vọng", "ktx": "ký túc xá"}
    assert expand_abbreviations("đh có ktx ko", "vi", university) == "đại học có ký túc xá không"
    assert expand_abbreviations("DH nào lấy 2 nv", "vi", university) == "ĐẠI HỌC nào lấy 2 nguyện vọng"
    assert expand_abbreviations("bs khám thứ 7 ko, có xn máu ko", "vi", clinic) == (
        "bác sĩ khám thứ 7 không, có xét nghiệm máu không")
    assert "đh" not in shop  # the shop's reading is the one every message gets already
    assert expand_abbreviations("đh của mình đâu r", "vi", shop) == "đơn hàng của mình đâu rồi"
    assert expand_abbreviations("cần bs gì", "vi", shop) == "cần bổ sung gì"
    assert expand_abbreviations("bs khám thứ 7 ko") == "bs khám thứ 7 không"  # no FAQ: as typed
    assert prepare("bs khám thứ 7 ko", clinic).shadow == "bac si kham thu 7 khong"
    # a clinic that writes "BHYT" itself keeps it: its texts and the customer's "bhyt" match
    assert "bhyt" not in corpus_readings(CLINIC + ["Có nhận bảo hiểm y tế (BHYT) không?"])
    assert corpus_readings(CLINIC + ["Có nhận bảo hiểm y tế không?"])["bhyt"] == "bảo hiểm y tế"


# --- prepare ------------------------------------------------------------------


def test_prepare_gives_every_form_of_a_message():
    p = prepare("  Cho mình hỏi sdt shop la j z???  ")
    assert p.original == "  Cho mình hỏi sdt shop la j z???  "  # the transcript keeps what was typed
    assert p.normalized == "Cho mình hỏi sdt shop la j z?"
    assert p.text == "Cho mình hỏi số điện thoại shop la gì vậy?"
    assert p.shadow == "cho minh hoi so dien thoai shop la gi vay?"
    assert p.folded == "cho minh hoi sdt shop la j z?"
    assert p.language == "vi"


@pytest.mark.parametrize("text", ["Thuý ơi ko dc r", "Huỷ đơn hàng giúp e", "Phí ship về Hà Nội bao nhiêu?"])
def test_a_message_typed_in_nfd_is_read_like_the_nfc_one(text):
    decomposed, composed = prepare(nfd(text)), prepare(text)
    assert decomposed.original != composed.original
    assert (decomposed.text, decomposed.shadow, decomposed.language) == (
        composed.text, composed.shadow, composed.language)


def test_typed_without_accents_matches_the_accented_message():
    plain, accented = prepare("toi muon huy don hang ko dc"), prepare("Tôi muốn huỷ đơn hàng không được")
    assert plain.shadow == accented.shadow == "toi muon huy don hang khong duoc"
    assert plain.typed_without_diacritics  # even though expanding "ko dc" added accents
    assert not accented.typed_without_diacritics
    assert not prepare("???").typed_without_diacritics
    assert not prepare("😂").typed_without_diacritics


@pytest.mark.parametrize("shouted, typed", [
    ("PHÍ SHIP VỀ HÀ NỘI BAO NHIÊU???", "phí ship về hà nội bao nhiêu???"),
    ("SHOP ƠI SAO KO NHẬN DC MÃ OTP", "shop ơi sao ko nhận dc mã otp"),
    ("PHI SHIP BAO NHIEU Z", "phi ship bao nhieu z"),
    ("HOW MUCH IS DELIVERY TO HANOI", "how much is delivery to hanoi"),
])
def test_a_message_in_capitals_is_read_as_in_lower_case(shouted, typed):
    loud, plain = prepare(shouted), prepare(typed)
    assert (loud.text, loud.shadow, loud.language) == (plain.text, plain.shadow, plain.language)
    assert loud.original == shouted  # the transcript keeps the capitals
    assert prepare(unicodedata.normalize("NFD", shouted)).text == plain.text


@pytest.mark.parametrize("with_emoji, typed", [
    ("phí ship bao nhiêu 😊😊", "phí ship bao nhiêu"),
    ("😍 shop ơi có trả góp ko", "shop ơi có trả góp ko"),
    ("hàng lỗi 😡😡 muốn đổi 👨‍👩‍👧", "hàng lỗi muốn đổi"),
    ("ok 👌🏻", "ok"),
])
def test_emoji_beside_words_are_not_read(with_emoji, typed):
    assert prepare(with_emoji).text == prepare(typed).text


@pytest.mark.parametrize("text, word", [
    ("có ship COD không", "COD"), ("Tôi muốn HUỶ đơn", "HỦY"), ("mã OTP", "OTP"), ("MOMO", "MOMO"),
    ("VNPAY ok", "VNPAY"),
])
def test_acronyms_and_a_word_in_capitals_are_kept(text, word):
    assert word in prepare(text).text.split()


def test_an_english_message_keeps_its_words():
    p = prepare("k thanks, where is my order")
    assert p.language == "en"
    assert p.text == "k thanks, where is my order"  # "k" is "ok" here, not "không"


@pytest.mark.parametrize("text", ["ok", "👍", "", "0912345678"])
def test_too_little_to_tell_the_language(text):
    assert prepare(text).language is None


def test_prepare_emoji_only_and_empty():
    p = prepare("😂😂")
    assert (p.text, p.shadow, p.words) == ("😂😂", "😂😂", [])
    assert prepare("").text == prepare("").shadow == ""


# --- segment --------------------------------------------------------------------


def test_words_span_several_syllables():
    words = [w for w, _, _ in segment("chăm sóc khách hàng")]
    assert "khách hàng" in words and len(words) < 4


def test_word_offsets_point_into_the_text_as_typed_in_nfd():
    original = nfd("Tôi muốn huỷ đơn hàng ko dc")
    words = segment(original)
    typed = [unicodedata.normalize("NFC", original[start:end]) for _, start, end in words]
    assert typed == ["Tôi", "muốn", "huỷ", "đơn", "hàng", "ko", "dc"]  # as the customer typed them
    assert [w for w, _, _ in words] == ["Tôi", "muốn", "hủy", "đơn", "hàng", "không", "được"]
    assert prepare(original).words == words


def test_an_expanded_abbreviation_spans_what_was_typed():
    text = "ship COD dc ko shop, 你好"
    assert [(w, text[s:e]) for w, s, e in segment(text)] == [
        ("giao", "ship"), ("hàng", "ship"), ("COD", "COD"), ("được", "dc"), ("không", "ko"),
        ("shop", "shop,"), ("你好", "你好")]


# --- detect_language ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Tôi muốn hủy đơn hàng",  # diacritics
        "Ừ",  # one word, but a letter only Vietnamese has
        "toi muon huy don hang",  # no diacritics
        "cho minh hoi shop co giao hang khong",
        "ko dc ad oi",  # teencode
        "sdt shop la j z",
        "ship COD dc ko shop",  # mixed
        "Tôi muốn check order",
        "Tôi là An",
    ],
)
def test_detects_vietnamese(text):
    assert detect_language(text, default="en") == "vi"


@pytest.mark.parametrize(
    "text",
    [
        "I want to cancel my order",
        "How do I reset my password?",
        "where is my order please",
        "k thanks",
        "Can you help me",
        "I want a café",
    ],
)
def test_detects_english(text):
    assert detect_language(text, default="vi") == "en"


@pytest.mark.parametrize("text", ["", "   ", "ok", "hi", "😂😂", "👍", "0912345678", "?"])
def test_short_or_ambiguous_input_returns_default(text):
    assert detect_language(text) == "vi"
    assert detect_language(text, default="vi") == "vi"
    assert detect_language(text, default="en") == "en"


@pytest.mark.parametrize("english, vietnamese", [
    ("I forgot my password", "quên mật khẩu"),
    ("What's your phone number?", "số điện thoại"),  # the phrase, not "điện thoại" + "số"
    ("Cancelled orders get refunded?", "hủy đơn hàng đặt nhận hoàn tiền"),  # inflected forms
    ("I can’t log in", "không được đăng nhập"),  # curly apostrophe, a two-word verb
    ("WHERE IS THE CLINIC", "ở đâu phòng khám"),
])
def test_english_support_words_read_in_vietnamese(english, vietnamese):
    gloss = vietnamese_gloss(english)
    assert gloss.text == vietnamese and gloss.known == 1.0


def test_a_gloss_leaves_out_what_it_does_not_know_and_says_how_much_that_is():
    assert vietnamese_gloss("write me a poem about the sea") == ("", 0.0)
    assert vietnamese_gloss("what student clubs are there?") == ("sinh viên", 0.5)
    assert vietnamese_gloss("") == ("", 0.0)
    assert vietnamese_gloss("mình quên mật khẩu").text == ""  # Vietnamese is not English
