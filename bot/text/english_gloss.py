"""English support vocabulary in Vietnamese: "I forgot my password" -> "quên mật khẩu".

A customer may write in English to a business whose FAQ is Vietnamese only. The bundled
embedder matches across the two languages only loosely, and English words match nothing in a
Vietnamese corpus, so FAQ search reads an English message's gloss as well: the Vietnamese of
the words and phrases below, in the message's order, without its function words. It is a
word list, not a translator; a word it does not know is left out.

The list is general customer-support vocabulary for any kind of business (shops, banks and
e-wallets, clinics, schools, hotels, telecoms...). Of the evaluation sets, only the English
misses of the tune set (bench/data/e2e/ewallet) were read while writing it; the report
sets' were not (bench/english_agree.md).
"""
from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Tuple

__all__ = ["ENGLISH_GLOSS", "Gloss", "vietnamese_gloss"]

# English (lower case, lemma) -> Vietnamese. Phrases are matched before their words.
ENGLISH_GLOSS: Dict[str, str] = {
    # --- asking, wanting, being able -------------------------------------------------------
    "how much": "bao nhiêu", "how many": "bao nhiêu", "how long": "bao lâu",
    "what time": "mấy giờ", "when": "khi nào", "where": "ở đâu", "why": "tại sao",
    "can i": "có được không", "is it possible": "có được không", "allowed": "được phép",
    "allow": "cho phép", "need": "cần", "want": "muốn", "must": "phải", "have to": "phải",
    "possible": "được", "able": "được", "help": "hỗ trợ", "support": "hỗ trợ",
    "question": "câu hỏi", "ask": "hỏi", "answer": "trả lời", "know": "biết",
    "find": "tìm", "search": "tìm", "look for": "tìm", "check": "kiểm tra", "see": "xem",
    "view": "xem", "show": "xem", "use": "dùng", "using": "dùng", "get": "nhận",
    "receive": "nhận", "give": "cho", "send": "gửi", "download": "tải", "upload": "tải lên",
    "take": "mất", "bring": "mang", "keep": "giữ", "wait": "chờ", "try": "thử",
    "choose": "chọn", "select": "chọn", "pick": "chọn", "decide": "quyết định",
    "not": "không", "no": "không", "don't": "không", "doesn't": "không", "can't": "không được",
    "cannot": "không được", "didn't": "không", "won't": "không", "isn't": "không",
    "without": "không có", "only": "chỉ", "also": "cũng", "again": "lại", "still": "vẫn",
    "yet": "chưa", "already": "đã", "same": "giống", "different": "khác", "other": "khác",
    "another": "khác", "new": "mới", "old": "cũ", "first": "đầu tiên", "last": "cuối",
    "next": "tiếp theo", "before": "trước", "after": "sau", "during": "trong",
    "more": "thêm", "extra": "thêm", "less": "ít", "many": "nhiều", "much": "nhiều",
    "all": "tất cả", "every": "mỗi", "each": "mỗi", "per": "mỗi", "any": "nào",
    "which": "nào", "own": "riêng", "myself": "tự", "yourself": "tự", "self": "tự",
    # --- people ---------------------------------------------------------------------------
    "staff": "nhân viên", "employee": "nhân viên", "agent": "nhân viên", "person": "người",
    "human": "người", "people": "người", "someone": "người", "customer": "khách hàng",
    "client": "khách hàng", "member": "thành viên", "owner": "chủ", "manager": "quản lý",
    "child": "trẻ em", "children": "trẻ em", "kid": "trẻ em", "baby": "em bé", "son": "con",
    "daughter": "con", "parent": "bố mẹ", "mother": "mẹ", "mom": "mẹ", "father": "bố",
    "dad": "bố", "wife": "vợ", "husband": "chồng", "family": "gia đình", "relative": "người thân",
    "friend": "bạn", "elderly": "người già", "adult": "người lớn", "student": "sinh viên",
    "pupil": "học sinh", "teacher": "giáo viên", "lecturer": "giảng viên", "foreigner": "người nước ngoài",
    "foreign": "nước ngoài", "abroad": "nước ngoài", "international": "quốc tế",
    # --- contact --------------------------------------------------------------------------
    "contact": "liên hệ", "call": "gọi", "phone": "điện thoại", "phone number": "số điện thoại",
    "mobile": "điện thoại", "hotline": "hotline tổng đài", "call center": "tổng đài",
    "email": "email", "message": "tin nhắn", "chat": "chat nhắn tin", "reply": "trả lời",
    "address": "địa chỉ", "location": "địa chỉ", "located": "ở đâu", "branch": "chi nhánh",
    "office": "văn phòng", "store": "cửa hàng", "shop": "shop cửa hàng", "website": "website",
    "app": "ứng dụng app", "application": "ứng dụng", "online": "online trực tuyến",
    "offline": "trực tiếp", "in person": "trực tiếp", "directly": "trực tiếp",
    "notification": "thông báo", "notify": "thông báo", "alert": "thông báo",
    # --- time ------------------------------------------------------------------------------
    "time": "thời gian", "hour": "giờ", "hours": "giờ", "opening hours": "giờ mở cửa",
    "working hours": "giờ làm việc", "open": "mở cửa", "close": "đóng cửa", "closed": "đóng cửa",
    "day": "ngày", "days": "ngày", "daily": "mỗi ngày", "date": "ngày", "week": "tuần",
    "weekly": "hàng tuần", "month": "tháng", "monthly": "hàng tháng", "year": "năm",
    "yearly": "hàng năm", "annual": "hàng năm", "today": "hôm nay", "tomorrow": "ngày mai",
    "yesterday": "hôm qua", "morning": "buổi sáng", "afternoon": "buổi chiều",
    "evening": "buổi tối", "night": "buổi tối ban đêm", "tonight": "tối nay",
    "weekend": "cuối tuần", "saturday": "thứ bảy", "sunday": "chủ nhật", "holiday": "ngày lễ",
    "tet": "tết", "lunar new year": "tết", "minute": "phút", "deadline": "hạn chót thời hạn",
    "due": "đến hạn", "expire": "hết hạn", "expired": "hết hạn", "expiry": "hết hạn",
    "term": "kỳ hạn", "period": "thời gian", "schedule": "lịch", "calendar": "lịch",
    "late": "trễ muộn", "early": "sớm", "soon": "sớm", "fast": "nhanh", "quick": "nhanh",
    "quickly": "nhanh", "urgent": "gấp", "slow": "chậm", "delay": "chậm trễ",
    "delayed": "chậm trễ", "long": "lâu", "now": "bây giờ", "still pending": "đang xử lý",
    # --- money -----------------------------------------------------------------------------
    "price": "giá", "cost": "chi phí giá", "fee": "phí", "fees": "phí", "charge": "phí tính tiền",
    "charged": "bị trừ tiền tính phí", "free": "miễn phí", "pay": "thanh toán trả tiền",
    "payment": "thanh toán", "paid": "đã thanh toán", "money": "tiền", "cash": "tiền mặt",
    "cheap": "rẻ", "expensive": "đắt", "discount": "giảm giá chiết khấu", "sale": "khuyến mãi giảm giá",
    "promotion": "khuyến mãi", "promo": "khuyến mãi", "voucher": "voucher mã giảm giá",
    "coupon": "mã giảm giá", "code": "mã", "cashback": "hoàn tiền cashback",
    "refund": "hoàn tiền", "refunded": "hoàn tiền", "money back": "hoàn tiền",
    "deposit": "đặt cọc nạp tiền", "installment": "trả góp", "instalment": "trả góp",
    "invoice": "hóa đơn", "bill": "hóa đơn", "receipt": "hóa đơn biên lai", "vat": "hóa đơn vat",
    "tax": "thuế", "interest": "lãi", "interest rate": "lãi suất", "rate": "tỷ lệ",
    "exchange rate": "tỷ giá", "currency": "ngoại tệ", "dollar": "đô la", "usd": "usd",
    "tuition": "học phí", "salary": "lương", "budget": "chi phí", "total": "tổng",
    "amount": "số tiền", "balance": "số dư", "debt": "nợ", "owe": "nợ", "loan": "khoản vay",
    "borrow": "vay", "credit": "tín dụng", "later": "sau", "pay later": "trả sau",
    "overdue": "quá hạn", "penalty": "phạt", "fine": "phạt", "minimum": "tối thiểu",
    "maximum": "tối đa", "max": "tối đa", "limit": "hạn mức giới hạn", "cap": "hạn mức",
    "percent": "phần trăm", "commission": "phí hoa hồng", "bonus": "thưởng",
    "reward": "thưởng", "refer": "giới thiệu", "referral": "giới thiệu", "invite": "mời giới thiệu",
    # --- banking, cards, wallets ----------------------------------------------------------
    "bank": "ngân hàng", "bank account": "tài khoản ngân hàng", "card": "thẻ",
    "credit card": "thẻ tín dụng", "debit card": "thẻ ghi nợ", "visa": "visa",
    "mastercard": "mastercard", "atm": "atm", "wallet": "ví", "e-wallet": "ví điện tử",
    "ewallet": "ví điện tử", "transfer": "chuyển tiền chuyển khoản", "bank transfer": "chuyển khoản",
    "wire": "chuyển khoản", "withdraw": "rút tiền", "withdrawal": "rút tiền", "top up": "nạp tiền",
    "top-up": "nạp tiền", "topup": "nạp tiền", "recharge": "nạp tiền", "load": "nạp",
    "transaction": "giao dịch", "statement": "sao kê", "history": "lịch sử",
    "savings": "tiết kiệm", "saving": "tiết kiệm", "save": "lưu tiết kiệm",
    "link": "liên kết", "linked": "liên kết", "unlink": "hủy liên kết", "connect": "kết nối liên kết",
    "disconnect": "hủy liên kết", "qr": "qr", "scan": "quét", "qr code": "mã qr",
    "pending": "đang xử lý", "processing": "đang xử lý", "failed": "thất bại",
    "fail": "thất bại lỗi", "success": "thành công", "successful": "thành công",
    "wrong": "nhầm sai", "mistake": "nhầm", "by mistake": "nhầm", "incorrect": "sai",
    "deducted": "bị trừ tiền", "deduct": "trừ tiền", "insured": "bảo hiểm", "insurance": "bảo hiểm",
    "health insurance": "bảo hiểm y tế", "otp": "otp", "pin": "mã pin",
    # --- accounts and security ------------------------------------------------------------
    "account": "tài khoản", "sign up": "đăng ký", "signup": "đăng ký", "register": "đăng ký",
    "registration": "đăng ký", "enroll": "đăng ký", "enrol": "đăng ký", "subscribe": "đăng ký",
    "unsubscribe": "hủy đăng ký", "log in": "đăng nhập", "login": "đăng nhập", "sign in": "đăng nhập",
    "log out": "đăng xuất", "logout": "đăng xuất", "password": "mật khẩu", "username": "tên đăng nhập",
    "forgot": "quên", "forget": "quên", "reset": "đặt lại", "recover": "khôi phục lấy lại",
    "restore": "khôi phục", "verify": "xác thực xác minh", "verification": "xác thực",
    "authenticate": "xác thực", "identity": "danh tính", "id card": "căn cước cccd",
    "citizen id": "căn cước cccd", "passport": "hộ chiếu", "face": "khuôn mặt",
    "selfie": "chụp khuôn mặt", "photo": "ảnh", "picture": "ảnh", "document": "giấy tờ hồ sơ",
    "documents": "giấy tờ hồ sơ", "paper": "giấy tờ", "papers": "giấy tờ", "form": "đơn mẫu",
    "lock": "khóa", "locked": "bị khóa", "block": "khóa chặn", "blocked": "bị khóa",
    "unlock": "mở khóa", "suspend": "khóa tạm", "delete": "xóa", "remove": "xóa gỡ",
    "secure": "an toàn bảo mật", "security": "bảo mật", "safe": "an toàn", "hack": "bị hack",
    "hacked": "bị hack", "scam": "lừa đảo", "fraud": "lừa đảo", "stolen": "mất cắp",
    "steal": "mất cắp", "lost": "mất", "lose": "mất", "device": "thiết bị",
    "information": "thông tin", "info": "thông tin", "personal": "cá nhân", "name": "tên",
    "profile": "hồ sơ thông tin", "age": "tuổi", "old enough": "đủ tuổi", "years old": "tuổi",
    "update": "cập nhật", "edit": "sửa", "modify": "sửa", "correct": "sửa đúng",
    # --- changing, cancelling, problems ---------------------------------------------------
    "change": "đổi thay đổi", "switch": "chuyển đổi", "replace": "thay", "exchange": "đổi",
    "cancel": "hủy", "cancellation": "hủy", "cancelled": "hủy", "canceled": "hủy",
    "stop": "dừng ngừng", "pause": "tạm dừng", "postpone": "hoãn dời", "reschedule": "dời lịch đổi lịch",
    "move": "chuyển dời", "transfer to": "chuyển sang", "return": "trả lại đổi trả",
    "give back": "trả lại", "complaint": "khiếu nại", "complain": "khiếu nại",
    "problem": "vấn đề lỗi", "issue": "vấn đề lỗi", "error": "lỗi", "bug": "lỗi",
    "broken": "hỏng", "damaged": "hư hỏng", "defective": "lỗi hỏng", "work": "hoạt động",
    "not working": "không hoạt động lỗi", "missing": "thiếu", "wrong item": "giao nhầm",
    "fix": "sửa", "repair": "sửa chữa", "warranty": "bảo hành", "guarantee": "bảo hành",
    "report": "báo cáo", "feedback": "góp ý phản hồi", "review": "đánh giá", "rate us": "đánh giá",
    # --- orders and delivery --------------------------------------------------------------
    "order": "đơn hàng đặt", "buy": "mua", "purchase": "mua", "bought": "mua", "sell": "bán",
    "product": "sản phẩm", "item": "sản phẩm món", "goods": "hàng hóa", "stock": "còn hàng",
    "in stock": "còn hàng", "out of stock": "hết hàng", "available": "có sẵn còn",
    "size": "size kích thước", "color": "màu", "colour": "màu", "genuine": "chính hãng",
    "authentic": "chính hãng", "original": "chính hãng", "fake": "hàng giả", "quality": "chất lượng",
    "ship": "giao hàng ship", "shipping": "giao hàng vận chuyển", "delivery": "giao hàng",
    "deliver": "giao hàng", "shipping fee": "phí ship phí vận chuyển", "courier": "đơn vị vận chuyển",
    "track": "theo dõi tra cứu", "tracking": "theo dõi tra cứu", "status": "trạng thái tình trạng",
    "arrive": "nhận được giao tới", "package": "gói hàng kiện hàng", "parcel": "kiện hàng",
    "cod": "cod", "cash on delivery": "thanh toán khi nhận hàng cod", "pick up": "nhận lấy",
    "pickup": "nhận tại", "collect": "nhận lấy", "province": "tỉnh", "city": "thành phố",
    "district": "quận huyện", "nationwide": "toàn quốc", "country": "nước",
    "wholesale": "bán sỉ", "gift": "quà tặng", "wrap": "gói", "member card": "thẻ thành viên",
    "points": "điểm", "point": "điểm", "loyalty": "tích điểm thành viên",
    # --- health and clinics --------------------------------------------------------------
    "doctor": "bác sĩ", "nurse": "điều dưỡng y tá", "clinic": "phòng khám", "hospital": "bệnh viện",
    "appointment": "lịch hẹn hẹn khám", "book": "đặt", "booking": "đặt lịch", "walk in": "không hẹn",
    "examination": "khám", "exam": "khám thi", "checkup": "khám sức khỏe", "check-up": "khám sức khỏe",
    "check up": "khám sức khỏe", "visit": "khám thăm", "see a doctor": "khám bác sĩ",
    "consultation": "tư vấn khám", "consult": "tư vấn", "advice": "tư vấn",
    "test": "xét nghiệm kiểm tra", "blood": "máu", "blood test": "xét nghiệm máu",
    "result": "kết quả", "results": "kết quả", "sample": "mẫu", "medicine": "thuốc",
    "drug": "thuốc", "prescription": "đơn thuốc", "pharmacy": "nhà thuốc", "vaccine": "vắc xin tiêm",
    "vaccination": "tiêm chủng", "vaccinate": "tiêm", "injection": "tiêm", "shot": "mũi tiêm",
    "sick": "ốm bệnh", "ill": "ốm bệnh", "illness": "bệnh", "disease": "bệnh", "pain": "đau",
    "fever": "sốt", "cough": "ho", "emergency": "cấp cứu", "pregnant": "mang thai có bầu",
    "pregnancy": "thai sản mang thai", "dentist": "nha khoa răng", "dental": "nha khoa răng",
    "tooth": "răng", "teeth": "răng", "eye": "mắt", "skin": "da", "heart": "tim",
    "specialist": "chuyên khoa", "department": "khoa phòng", "ultrasound": "siêu âm",
    "x-ray": "chụp x quang", "scan result": "kết quả chụp", "surgery": "phẫu thuật mổ",
    "hospitalized": "nằm viện", "overnight": "qua đêm", "stay": "ở lại lưu trú",
    "treatment": "điều trị", "health": "sức khỏe", "medical": "y tế", "certificate": "giấy chứng nhận",
    "sick leave": "nghỉ ốm", "follow-up": "tái khám", "follow up": "tái khám", "re-examination": "tái khám",
    "home": "tại nhà nhà", "at home": "tại nhà", "house call": "khám tại nhà",
    # --- education and admissions ----------------------------------------------------------
    "school": "trường", "university": "trường đại học", "college": "trường cao đẳng",
    "admission": "tuyển sinh xét tuyển", "admissions": "tuyển sinh", "apply": "nộp hồ sơ đăng ký",
    "application form": "hồ sơ", "major": "ngành", "program": "chương trình ngành",
    "programme": "chương trình", "course": "khóa học môn", "class": "lớp", "subject": "môn",
    "score": "điểm", "scores": "điểm", "grade": "điểm", "grades": "điểm", "mark": "điểm",
    "cutoff": "điểm chuẩn", "cut-off": "điểm chuẩn", "benchmark": "điểm chuẩn",
    "transcript": "học bạ bảng điểm", "entrance": "đầu vào", "scholarship": "học bổng",
    "dormitory": "ký túc xá", "dorm": "ký túc xá", "campus": "cơ sở", "graduate": "tốt nghiệp",
    "graduation": "tốt nghiệp", "degree": "bằng", "diploma": "bằng", "certificate of": "chứng chỉ",
    "english": "tiếng anh", "ielts": "ielts", "toefl": "toefl", "semester": "học kỳ",
    "credit hour": "tín chỉ", "credits": "tín chỉ", "study": "học", "learn": "học",
    "job": "việc làm", "career": "việc làm nghề nghiệp", "internship": "thực tập",
    "quota": "chỉ tiêu", "priority": "ưu tiên", "combination": "tổ hợp", "exemption": "miễn giảm",
    # --- places, travel, services ----------------------------------------------------------
    "parking": "gửi xe đỗ xe", "park": "gửi xe đỗ xe", "car": "ô tô xe", "motorbike": "xe máy",
    "room": "phòng", "hotel": "khách sạn", "ticket": "vé", "seat": "chỗ", "reservation": "đặt chỗ",
    "reserve": "đặt trước", "food": "đồ ăn", "eat": "ăn", "drink": "uống", "breakfast": "ăn sáng",
    "wifi": "wifi", "internet": "internet mạng", "electricity": "điện", "water": "nước",
    "service": "dịch vụ", "package plan": "gói", "plan": "gói", "membership": "thành viên",
    "near": "gần", "nearby": "gần", "far": "xa", "inside": "trong", "outside": "ngoài",
    "language": "ngôn ngữ", "vietnamese": "tiếng việt",
}

# Word forms that reach a lemma above: plurals, past tenses, -ing.
_SUFFIXES: Tuple[Tuple[str, str], ...] = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"),
                                          ("ed", ""), ("ed", "e"), ("es", ""), ("s", ""))
# Words that carry no topic: they neither count as known nor as missing.
_FUNCTION_WORDS = frozenset("""
    a an the is are was were be been being am do does did doing have has had to of in on at for
    with from by about as into it its this that these those there here and or but if so could
    would will should shall may might what who whom how i me my mine we us our you your he she
    they them their him her his please thanks thank hi hello just some any get got
""".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_LONGEST = max(len(k.split()) for k in ENGLISH_GLOSS)


class Gloss(NamedTuple):
    text: str  # the Vietnamese of the words the list knows, in the message's order
    known: float  # the share of the message's topic words the list knows (0 when it has none)


def _is_topic(word: str) -> bool:
    return word.split("'")[0] not in _FUNCTION_WORDS  # "what's" is "what"


def _lemma(word: str) -> str | None:
    if word in ENGLISH_GLOSS:
        return word
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + repl
            if stem in ENGLISH_GLOSS:
                return stem
    return None


def vietnamese_gloss(text: str) -> Gloss:
    """The Vietnamese of the English words and phrases of `text` that the list knows, and how
    much of the message that covers; phrases win over their words ("phone number" is
    "số điện thoại")."""
    tokens = _TOKEN.findall(text.lower().replace("’", "'"))
    out: List[str] = []
    known = 0
    i = 0
    while i < len(tokens):
        for n in range(min(_LONGEST, len(tokens) - i), 0, -1):
            words = tokens[i:i + n]
            key = " ".join(words) if n > 1 else _lemma(words[0])
            if n > 1 and key not in ENGLISH_GLOSS:  # a phrase whose last word is inflected
                last = _lemma(words[-1])
                key = " ".join(words[:-1] + [last]) if last else None
            if key and key in ENGLISH_GLOSS:
                out.append(ENGLISH_GLOSS[key])
                known += sum(1 for w in words if _is_topic(w))
                i += n
                break
        else:
            i += 1
    topic = sum(1 for w in tokens if _is_topic(w))
    return Gloss(" ".join(out), known / topic if topic else 0.0)
