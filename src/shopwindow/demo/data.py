"""Content of the demo platform: verticals, creators, fan names, post and reply phrases.

Plain data only; `seed.py` combines it with a seeded random generator, so the same demo
comes out every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Product:
    zh: str
    en: str
    shape: str  # images.py: bottle, tube, jar, round, bag, shoe, cup, book, device, box
    price: int  # yuan
    zh_reasons: tuple[str, str]  # clauses that fit "回购的{product}，{reason}。"
    zh_con: str
    en_reasons: tuple[str, str]  # clauses that fit "because {reason}"
    en_con: str


@dataclass(frozen=True, slots=True)
class Vertical:
    key: str
    zh: str
    en: str
    weibo_tags: tuple[str, ...]  # used as #话题#
    latin_tags: tuple[str, ...]  # used as #tag
    products: tuple[Product, ...]
    palette: tuple[tuple[int, int, int], tuple[int, int, int]]


@dataclass(frozen=True, slots=True)
class Creator:
    username: str
    display_name: str
    lang: str  # "zh" or "en": the language the creator writes in
    verticals: tuple[str, ...]
    bio: str
    region: str
    popularity: float  # relative chance that an interested fan follows
    role: str = "creator"
    mentions: tuple[str, ...] = field(default_factory=tuple)  # accounts they like to mention


P = Product

VERTICALS: tuple[Vertical, ...] = (
    Vertical(
        "fashion", "时尚穿搭", "Fashion", ("今日穿搭", "小个子穿搭", "秋冬外套怎么选"),
        ("ootd", "fashion", "capsulewardrobe"),
        (P("羊毛双面呢大衣", "Double-faced wool coat", "bag", 1299,
           ("版型很正，158穿也不压个子", "双面呢很挺括，零下五度也扛得住"), "需要干洗",
           ("the cut works on a petite frame", "it kept me warm at minus five"),
           "it is dry clean only"),
         P("宽松针织开衫", "Oversized knit cardigan", "bag", 329,
           ("面料软糯不扎，贴身穿也舒服", "洗了三次没有变形起球"), "袖子稍微有点长",
           ("the yarn is soft and doesn't itch", "there is no pilling after three washes"),
           "the sleeves run a little long"),
         P("帆布托特包", "Canvas tote bag", "bag", 159,
           ("能放下14寸电脑和一把伞", "帆布厚实，背一年也不塌"), "浅色容易脏",
           ("it fits a 14-inch laptop and an umbrella", "the canvas still holds its shape"),
           "the light colour shows dirt"),
         P("厚底小白鞋", "Platform white sneakers", "shoe", 459,
           ("显高四厘米还不累脚", "皮面好打理，一擦就干净"), "刚上脚有点磨后跟",
           ("they add four centimetres without hurting", "the leather wipes clean in seconds"),
           "they rub at the heel for the first week"),
         P("高腰直筒牛仔裤", "High-rise straight jeans", "box", 269,
           ("高腰收肚子，腿型显直", "微弹面料，蹲下也不勒"), "第一次洗有点掉色",
           ("the high waist is flattering", "the slight stretch means no pinching"),
           "the first wash bleeds a little dye")),
        ((238, 214, 196), (166, 124, 104)),
    ),
    Vertical(
        "beauty", "美妆护肤", "Beauty", ("护肤心得", "敏感肌护肤", "空瓶记"),
        ("skincare", "beauty", "skincareroutine"),
        (P("维C精华液", "Vitamin C serum", "bottle", 268,
           ("用了一个月肤色明显匀了", "质地轻薄，上脸秒吸收"), "开封后要尽快用完",
           ("my skin tone evened out within a month", "the texture sinks in within seconds"),
           "it oxidises fast once opened"),
         P("清爽防晒乳SPF50", "Light sunscreen SPF50", "bottle", 139,
           ("不油不搓泥，后续上妆很服帖", "敏感肌用了没有刺痛泛红"), "容量有点小",
           ("it doesn't pill under makeup", "my sensitive skin doesn't sting"),
           "the bottle is small"),
         P("丝绒雾面口红", "Velvet matte lipstick", "tube", 199,
           ("雾面但不拔干，一天不用补", "黄皮涂也显白"), "需要卸妆油才卸得干净",
           ("it is matte without drying my lips", "the shade flatters warm skin tones"),
           "you need an oil cleanser to remove it"),
         P("修护保湿面霜", "Barrier repair cream", "jar", 238,
           ("成分表干净，没有香精和酒精", "换季泛红两天就稳住了"), "价格不算便宜",
           ("the ingredient list is short and fragrance-free",
            "it calmed my seasonal redness in two days"), "it isn't cheap"),
         P("氨基酸洁面", "Amino acid cleanser", "bottle", 89,
           ("洗完不紧绷，敏感肌友好", "一支能用三个月，空瓶第四支了"), "泡沫不算丰富",
           ("my skin never feels tight afterwards", "one tube lasts me three months"),
           "it doesn't foam much")),
        ((250, 221, 225), (214, 132, 160)),
    ),
    Vertical(
        "digital", "数码科技", "Tech", ("数码好物", "耳机测评", "桌面改造"),
        ("gadgets", "tech", "desksetup"),
        (P("主动降噪耳机", "Noise-cancelling headphones", "round", 899,
           ("降噪在地铁里很明显", "续航实测超过30小时"), "App有点难用",
           ("the noise cancelling handles the subway easily",
            "the battery lasted over 30 hours in my test"), "the companion app is clunky"),
         P("75%机械键盘", "75% mechanical keyboard", "device", 549,
           ("热插拔轴体，手感可以自己调", "做工扎实，没有松动异响"), "只有黑白两色",
           ("the switches are hot-swappable", "the build is solid with no rattle"),
           "it only comes in black or white"),
         P("智能手表", "Smartwatch", "round", 1299,
           ("心率和睡眠数据很准", "一周一充，出差不用带充电器"), "表带有点硬",
           ("the heart-rate and sleep data are accurate", "it lasts a week per charge"),
           "the strap is stiff"),
         P("氮化镓充电器65W", "65W GaN charger", "box", 149,
           ("一个头同时充电脑和手机", "体积只有原装的一半"), "满载时有点烫",
           ("one plug charges my laptop and phone together", "it is half the size of stock"),
           "it gets warm at full load"),
         P("20000mAh移动电源", "20,000 mAh power bank", "device", 199,
           ("能给手机充四次还有余", "带屏幕显示剩余电量"), "有点重",
           ("it charges my phone four times over", "the display shows the exact charge left"),
           "it is heavy")),
        ((205, 220, 240), (60, 80, 120)),
    ),
    Vertical(
        "home", "家居生活", "Home", ("居家好物", "小户型收纳", "租房改造"),
        ("homedecor", "smallspace", "rentertips"),
        (P("大豆香薰蜡烛", "Soy scented candle", "jar", 128,
           ("木质调不冲鼻，点一晚上满屋香", "燃烧均匀，不会掏洞"), "火焰偏小",
           ("the woody scent is gentle", "it burns evenly without tunnelling"),
           "the flame is small"),
         P("手作陶瓷马克杯", "Handmade ceramic mug", "cup", 79,
           ("每只釉色都不一样，拍照很出片", "能进洗碗机和微波炉"), "杯把有点小",
           ("every glaze is a little different", "it is dishwasher and microwave safe"),
           "the handle is small"),
         P("水洗亚麻四件套", "Washed linen bedding set", "box", 699,
           ("越洗越软，夏天睡着不闷", "颜色是很高级的雾霾蓝"), "容易皱，介意要熨",
           ("it gets softer with every wash", "it sleeps cool in summer"),
           "it wrinkles if you don't iron it"),
         P("可叠加收纳盒", "Stackable storage boxes", "box", 59,
           ("小户型衣柜瞬间多出一层", "透明盒身一眼找到东西"), "盖子要对准才扣得上",
           ("they added a whole shelf to my tiny wardrobe", "I can see what's inside"),
           "the lids need lining up to close"),
         P("北欧落地灯", "Nordic floor lamp", "bottle", 359,
           ("暖光不刺眼，看书刚好", "租房党不用打孔，插电即用"), "需要自己组装",
           ("the warm light is easy on the eyes", "it needs no drilling"),
           "you assemble it yourself")),
        ((236, 228, 212), (150, 160, 130)),
    ),
    Vertical(
        "food", "美食零食", "Food", ("吃货日常", "零食测评", "咖啡日记"),
        ("foodie", "coffee", "snacks"),
        (P("挂耳咖啡组合装", "Drip coffee bags", "box", 69,
           ("香气很足，坚果和焦糖味明显", "上班三分钟就能喝上手冲"), "酸度偏低",
           ("it smells of nuts and caramel", "I get pour-over at my desk in three minutes"),
           "it is low on acidity"),
         P("手工黄油曲奇", "Handmade butter cookies", "round", 48,
           ("黄油味很正，入口即化", "配料表只有五样东西"), "有点甜",
           ("the butter flavour is the real thing", "there are only five ingredients"),
           "a touch too sweet"),
         P("云南普洱茶饼", "Yunnan pu'er tea cake", "round", 158,
           ("汤色红亮，回甘明显", "能泡十几泡还有味"), "撬茶需要工具",
           ("the liquor is clear with a sweet finish", "it survives a dozen steeps"),
           "you need a pick to break the cake"),
         P("郫县红油辣椒酱", "Sichuan chili oil", "jar", 29,
           ("辣得很香不是干辣", "拌面拌饭都好吃，一周吃完一瓶"), "油有点多",
           ("the heat is fragrant, not harsh", "it makes plain noodles a meal"),
           "it is quite oily"),
         P("低糖燕麦脆", "Low-sugar oat granola", "box", 39,
           ("泡酸奶也能保持脆", "独立小包装，上班带着方便"), "大促才划算",
           ("it stays crunchy in yoghurt", "it comes in single portions"),
           "it's only worth it on sale")),
        ((250, 230, 200), (190, 100, 50)),
    ),
    Vertical(
        "travel", "旅行出行", "Travel", ("旅行攻略", "轻装出行", "露营装备"),
        ("travel", "carryon", "camping"),
        (P("20寸铝框登机箱", "20-inch aluminium carry-on", "box", 899,
           ("一个人拎上行李架毫无压力", "万向轮静音，机场走很久也不累"), "外壳容易留划痕",
           ("I can lift it into the overhead bin alone", "the wheels are silent"),
           "the shell scratches easily"),
         P("记忆棉颈枕", "Memory foam neck pillow", "round", 99,
           ("红眼航班终于睡着了", "能压缩成拳头大小"), "夏天有点热",
           ("I finally slept on a red-eye", "it squashes down to fist size"),
           "it's warm in summer"),
         P("旅行分装瓶套装", "Travel bottle set", "bottle", 45,
           ("硅胶瓶不漏液，过安检方便", "按压出液很顺"), "标签容易掉",
           ("the silicone bottles never leak", "they squeeze out easily"),
           "the labels peel off"),
         P("轻量露营帐篷", "Ultralight camping tent", "bag", 1099,
           ("一个人十分钟就能搭好", "暴雨里撑了一夜没漏水"), "价格偏高",
           ("one person can pitch it in ten minutes", "it survived a night of heavy rain"),
           "it's on the pricey side"),
         P("折叠月亮椅", "Folding camp chair", "bag", 229,
           ("收纳后只有一瓶水大小", "靠背包裹感强，坐一下午不累"), "颜色选择少",
           ("it packs down to the size of a water bottle", "it's comfy for a whole afternoon"),
           "there are few colour options")),
        ((200, 230, 235), (40, 120, 140)),
    ),
    Vertical(
        "parenting", "母婴育儿", "Parenting", ("育儿经", "母婴好物", "绘本推荐"),
        ("parenting", "babygear", "kidsbooks"),
        (P("轻便婴儿推车", "Lightweight stroller", "bag", 1599,
           ("单手就能收车，上地铁方便", "避震好，宝宝在车上能睡着"), "篮筐有点小",
           ("it folds with one hand for the subway", "the suspension lets my baby nap"),
           "the basket is small"),
         P("双语翻翻绘本", "Bilingual lift-the-flap book", "book", 68,
           ("宝宝自己会翻，能玩很久", "中英双语，睡前读正合适"), "页数不多",
           ("my toddler flips through it for ages", "it's perfect bilingual bedtime reading"),
           "there aren't many pages"),
         P("防漏儿童吸管杯", "Leak-proof sippy cup", "cup", 79,
           ("摔了无数次都没漏", "重力球吸管，躺着也能喝"), "零件多，清洗要拆",
           ("it has been dropped a hundred times without leaking",
            "the weighted straw works at any angle"), "there are a lot of parts to wash"),
         P("硅胶辅食餐盘", "Silicone suction plate", "round", 59,
           ("吸得很牢，宝宝掀不翻", "材质是食品级硅胶，能进洗碗机"), "在木桌上吸不牢",
           ("my baby can't flip it", "it is food-grade and dishwasher safe"),
           "the suction is weak on wood")),
        ((255, 236, 210), (240, 160, 120)),
    ),
    Vertical(
        "sports", "运动健身", "Sports", ("跑步打卡", "居家健身", "马拉松备赛"),
        ("running", "fitness", "homeworkout"),
        (P("碳板竞速跑鞋", "Carbon-plate racing shoes", "shoe", 1199,
           ("回弹很足，配速轻松快了10秒", "鞋面透气，夏天跑不闷脚"), "耐磨度一般",
           ("the bounce took ten seconds off my pace", "the upper breathes in summer"),
           "durability is average"),
         P("加厚防滑瑜伽垫", "Thick non-slip yoga mat", "bag", 169,
           ("出汗也不打滑", "8毫米厚，跪着也不硌"), "刚拆有味道",
           ("it doesn't slip even when sweaty", "it's thick enough for kneeling"),
           "it smells when new"),
         P("运动保温水壶", "Insulated sports bottle", "bottle", 129,
           ("保冷12小时是真的", "单手开盖，跑步时也能喝"), "有点重",
           ("it keeps drinks cold for 12 hours", "the lid opens with one hand"),
           "it's a bit heavy"),
         P("可调节哑铃", "Adjustable dumbbells", "device", 899,
           ("一对顶一整排哑铃，省地方", "转一下就换重量"), "换重量声音有点大",
           ("one pair replaces a whole rack", "a twist changes the weight"),
           "the weight change is noisy")),
        ((215, 240, 215), (50, 140, 90)),
    ),
    Vertical(
        "games", "游戏动漫", "Games", ("游戏推荐", "Switch好物", "桌游之夜"),
        ("gaming", "boardgames", "nintendo"),
        (P("无线游戏手柄", "Wireless game controller", "device", 299,
           ("摇杆用霍尔传感器，不会漂移", "延迟低，打格斗游戏没问题"), "按键声音偏大",
           ("the hall-effect sticks don't drift", "the latency is fine for fighting games"),
           "the buttons are loud"),
         P("电竞头戴耳机", "Gaming headset", "round", 399,
           ("脚步声听得很清楚", "戴三小时也不夹头"), "麦克风收音一般",
           ("you can hear footsteps clearly", "it's comfortable for three hours"),
           "the mic is average"),
         P("合作类桌游", "Co-op board game", "box", 198,
           ("四个人玩一晚上都不腻", "规则十分钟就能教会"), "说明书只有英文",
           ("four of us played all night", "the rules take ten minutes to teach"),
           "the rulebook is English only"),
         P("主机收纳支架", "Console storage stand", "box", 89,
           ("手柄和游戏卡带都有位置", "做工比原装还扎实"), "配色有点花",
           ("there's a place for every controller and cartridge",
            "it feels sturdier than first-party"), "the colourway is busy")),
        ((225, 215, 245), (100, 70, 170)),
    ),
    Vertical(
        "cars", "汽车出行", "Cars", ("用车心得", "车品测评", "新手司机"),
        ("cars", "roadtrip", "caraccessories"),
        (P("磁吸车载手机支架", "Magnetic car phone mount", "device", 89,
           ("过减速带也不会掉", "单手就能取放手机"), "夏天暴晒有点烫",
           ("it stays put over speed bumps", "I can grab my phone one-handed"),
           "it gets hot in summer sun"),
         P("4K行车记录仪", "4K dash cam", "device", 459,
           ("夜视画面清楚能看到车牌", "安装简单，不用走线"), "需要另买存储卡",
           ("the night footage shows plates clearly", "it installs without wiring"),
           "the memory card is sold separately"),
         P("车载香氛", "Car diffuser", "bottle", 128,
           ("味道淡雅不头晕", "出风口一夹就好"), "香味持续两周左右",
           ("the scent is subtle and doesn't cause headaches", "it clips onto the vent"),
           "the scent lasts about two weeks"),
         P("便携充气泵", "Portable tyre inflator", "box", 239,
           ("五分钟补好一个胎", "到设定胎压自动停"), "工作时声音大",
           ("it topped up a tyre in five minutes", "it stops at the pressure you set"),
           "it is loud while running")),
        ((220, 225, 230), (70, 80, 95)),
    ),
    Vertical(
        "finance", "理财记账", "Finance", ("理财小白", "记账打卡", "读书理财"),
        ("personalfinance", "budgeting", "investing"),
        (P("手账记账本", "Budget planner notebook", "book", 49,
           ("按月分类，一眼看出钱花哪了", "有模板直接抄作业"), "纸张偏薄",
           ("the monthly categories show where the money goes",
            "the templates are ready to copy"), "the paper is thin"),
         P("理财入门书", "Beginner's investing book", "book", 59,
           ("讲的是方法不是荐股", "适合刚工作的年轻人"), "部分案例是美股",
           ("it teaches method, not stock tips", "it's ideal for a first job"),
           "some examples are US-specific"),
         P("硬币存钱罐", "Coin savings jar", "jar", 39,
           ("带计数，存了多少一目了然", "孩子也爱往里存零钱"), "需要自律",
           ("it counts what you put in", "my kid loves feeding it coins"),
           "it still needs discipline")),
        ((230, 240, 220), (90, 130, 60)),
    ),
    Vertical(
        "health", "健康养生", "Health", ("健康生活", "睡眠改善", "肩颈放松"),
        ("wellness", "recovery", "sleep"),
        (P("迷你筋膜枪", "Mini massage gun", "tube", 299,
           ("久坐肩颈僵硬敲十分钟就松了", "静音，晚上用不吵家人"), "电池续航一般",
           ("ten minutes loosens my desk-job shoulders", "it's quiet enough for night use"),
           "the battery life is so-so"),
         P("乳清蛋白粉", "Whey protein powder", "jar", 259,
           ("溶解快，不结块", "巧克力味不齁"), "口味偏甜",
           ("it mixes fast with no clumps", "the chocolate flavour isn't cloying"),
           "it's on the sweet side"),
         P("智能体脂秤", "Smart body-fat scale", "device", 129,
           ("数据能同步到手机", "全家人自动识别"), "App需要注册",
           ("it syncs straight to my phone", "it recognises each family member"),
           "the app wants an account"),
         P("真丝眼罩", "Silk sleep mask", "bag", 99,
           ("遮光很好，午睡也能睡着", "真丝不勒，侧睡也舒服"), "要手洗",
           ("it blocks light well enough for naps",
            "the silk doesn't press when I sleep on my side"),
           "it's hand wash only")),
        ((225, 242, 240), (60, 150, 140)),
    ),
    Vertical(
        "books", "读书阅读", "Books", ("读书笔记", "书单推荐", "一起读书"),
        ("books", "bookstagram", "reading"),
        (P("精装长篇小说", "Hardcover novel", "book", 79,
           ("一口气读完，结尾很震撼", "翻译流畅，没有翻译腔"), "纸张有点透",
           ("I read it in one sitting and the ending floored me",
            "the translation is smooth and natural"), "the paper is a bit thin"),
         P("墨水屏阅读器", "E-ink reader", "device", 999,
           ("看一晚上眼睛不累", "一次充电能用一个月"), "翻页有点慢",
           ("my eyes don't tire after a whole evening", "one charge lasts a month"),
           "page turns are a little slow"),
         P("夹式护眼书灯", "Clip-on reading light", "device", 69,
           ("色温可调，不影响家人睡觉", "夹在书上不晃"), "夹子偏松",
           ("the adjustable warmth doesn't wake my partner", "it stays steady on the page"),
           "the clip is loose"),
         P("黄铜书签", "Brass bookmark", "book", 29,
           ("越用越有光泽", "装帧很美，适合送人"), "容易划伤薄纸",
           ("it develops a lovely patina", "it makes a beautiful gift"),
           "it can mark thin paper")),
        ((240, 232, 220), (120, 90, 70)),
    ),
    Vertical(
        "pets", "萌宠", "Pets", ("铲屎官日常", "猫粮测评", "领养代替购买"),
        ("catsofshopwindow", "pets", "adoptdontshop"),
        (P("无谷冻干猫粮", "Grain-free freeze-dried cat food", "jar", 199,
           ("三只猫都抢着吃", "成分表第一位是鲜肉"), "颗粒偏大",
           ("all three cats fight over it", "fresh meat is the first ingredient"),
           "the kibble is large"),
         P("瓦楞纸猫抓板", "Cardboard cat scratcher", "box", 49,
           ("猫主子一天要抓八百回", "沙发终于保住了"), "会掉纸屑",
           ("my cats scratch it all day long", "it finally saved my sofa"),
           "it sheds cardboard bits"),
         P("反光狗狗牵引绳", "Reflective dog leash", "bag", 69,
           ("晚上遛狗也看得见", "手柄软，大狗拉也不勒手"), "扣子有点紧",
           ("we're visible on night walks", "the soft handle doesn't bite"),
           "the clasp is stiff"),
         P("自动循环饮水机", "Cat water fountain", "round", 159,
           ("猫咪喝水量明显变多", "换水提醒很贴心"), "水泵有轻微声音",
           ("my cats drink noticeably more", "the refill reminder is handy"),
           "the pump hums slightly")),
        ((245, 230, 210), (200, 140, 60)),
    ),
)

VERTICAL_BY_KEY = {v.key: v for v in VERTICALS}

# Ordered so that any prefix still mixes Chinese and English creators and a brand
# (tests seed with only a few creators).
CREATORS: tuple[Creator, ...] = (
    Creator("linxiaoyu_style", "林小雨", "zh", ("fashion", "beauty"),
            "穿搭博主｜158小个子｜通勤&周末穿搭，只推荐自己真金白银买过的 ✨", "上海", 1.0,
            mentions=("xiaoxue_ootd", "sujin_beauty")),
    Creator("mia_makes_home", "Mia Chen", "en", ("home",),
            "Small apartment, big ideas. Renter-friendly home finds & weekend DIY.", "Vancouver",
            0.45, mentions=("brand_muzi_home", "zhang_jiaju")),
    Creator("brand_muzi_home", "木子家居 MUZI HOME", "zh", ("home",),
            "原创设计家居品牌｜棉麻床品·陶瓷餐具·香薰｜官方账号，售后请私信", "杭州", 0.35,
            role="brand"),
    Creator("techlaozhou", "老周聊数码", "zh", ("digital",),
            "十年数码编辑｜耳机键盘手机都拆过｜不恰烂饭，缺点照说", "深圳", 0.85,
            mentions=("brand_luma_audio", "sam_shoots_film")),
    Creator("wanderwithleo", "Leo Tan", "en", ("travel",),
            "Carry-on only since 2016. Gear that has survived 40 countries.", "Singapore", 0.3,
            mentions=("yeying_camp",)),
    Creator("sujin_beauty", "苏瑾Jin", "zh", ("beauty",),
            "配方党护肤｜敏感肌十年｜成分表逐条看给你听", "杭州", 0.7,
            mentions=("grace_glow", "linxiaoyu_style")),
    Creator("chiguo_xiaowang", "吃货小王", "zh", ("food",),
            "成都土著｜探店+零食测评｜辣度五颗星起步🌶", "成都", 0.6,
            mentions=("kafei_xiansheng",)),
    Creator("brand_luma_audio", "Luma Audio 声澜", "zh", ("digital",),
            "Luma Audio 官方账号｜降噪耳机与便携音箱｜新品首发在这里", "深圳", 0.25,
            role="brand"),
    Creator("mama_xiaotang", "糖糖妈育儿记", "zh", ("parenting",),
            "二胎妈妈｜前儿科护士｜母婴好物不踩坑，绘本每周更", "南京", 0.4),
    Creator("grace_glow", "Grace Wong", "en", ("beauty",),
            "Cosmetic chemist by day ✨ K/J/C-beauty reviews without the hype.", "Hong Kong", 0.3,
            mentions=("sujin_beauty",)),
    Creator("run_with_kai", "跑者阿凯", "zh", ("sports", "health"),
            "全马3:05｜跑鞋测评100+双｜周末北京奥森带跑", "北京", 0.35,
            mentions=("dr_fit_hannah",)),
    Creator("pixelpanda_games", "像素熊猫", "zh", ("games",),
            "主机/Switch/桌游｜每周五游戏推荐｜不氪金玩家", "上海", 0.5),
    Creator("chedongxi", "车东西老陈", "zh", ("cars",),
            "十五年驾龄老司机｜车品实测，不吹不黑", "广州", 0.2),
    Creator("moneywithmei", "梅姐说理财", "zh", ("finance", "books"),
            "CFA持证｜记账与理财入门｜不荐股，只讲方法", "上海", 0.3),
    Creator("dr_fit_hannah", "Hannah Liu, PT", "en", ("health", "sports"),
            "Physio & strength coach. Recovery tools and honest reviews.", "Sydney", 0.15,
            mentions=("run_with_kai",)),
    Creator("shuchong_ayuan", "书虫阿远", "zh", ("books",),
            "一年读书100本｜书单、阅读器、书灯｜在西安的小书房", "西安", 0.25,
            mentions=("moneywithmei",)),
    Creator("miaomiao_house", "喵喵屋", "zh", ("pets",),
            "三只猫的铲屎官｜猫粮成分党｜领养代替购买", "武汉", 0.55),
    Creator("yeying_camp", "野营小叶", "zh", ("travel",),
            "露营五年｜轻量化装备｜带娃露营攻略", "昆明", 0.2, mentions=("wanderwithleo",)),
    Creator("kafei_xiansheng", "咖啡先生", "zh", ("food",),
            "独立咖啡馆主理人｜挂耳测评｜手冲入门", "厦门", 0.18,
            mentions=("chiguo_xiaowang",)),
    Creator("sam_shoots_film", "Sam Okafor", "en", ("digital", "travel"),
            "Film & digital photography. Bags, lenses and chargers I actually carry.", "London",
            0.12, mentions=("techlaozhou",)),
    Creator("xiaoxue_ootd", "小雪的衣橱", "zh", ("fashion",),
            "微胖女孩穿搭｜显瘦技巧｜平价好物分享", "重庆", 0.4,
            mentions=("linxiaoyu_style",)),
    Creator("zhang_jiaju", "张老师家居改造", "zh", ("home",),
            "老房改造｜收纳整理师｜小户型也能住得舒服", "北京", 0.3,
            mentions=("brand_muzi_home",)),
)

OPERATOR = ("sw_ops", "shopwindow 运营团队",
            "shopwindow 演示站官方运营｜平台规则、合作平台与达人认证问题请找我们")

OPERATOR_POSTS = (
    "欢迎来到 shopwindow 演示站！这里的达人只推荐自己用过的好物，商品链接全部来自认证合作平台。"
    "#平台公告# #新手指南#",
    "社区规则提醒：不刷屏、不搞多级分销、推荐理由必填，推广内容一律标注。发现违规可以举报，"
    "我们会尽快处理。#平台公告#",
)

# Fans: name parts combined deterministically.
ZH_FAN_NAMES = (
    "小美爱逛街", "陈宇", "王小米", "阿杰", "雨桐", "周周", "李想", "momo酱", "橘子汽水",
    "大鹏", "晓晓", "林森", "一只鹿", "张敏", "芒果布丁", "刘畅", "阿珍", "小鱼干",
    "宋佳", "北北", "赵磊", "柚子", "何夕", "胖虎", "程程", "吴桐", "拾光", "奶茶续命",
    "安安", "黄小厨", "夏天", "若曦", "团子", "孙晴", "江南", "豆豆妈", "老杨", "秋秋",
    "郭小帅", "七七", "猫系女孩", "许诺", "麦兜", "冯雪", "木木", "罗一", "九月", "蒋小白",
)
ZH_FAN_HANDLES = (
    "xiaomei", "chenyu", "wangxiaomi", "ajie", "yutong", "zhouzhou", "lixiang", "momo",
    "juzi", "dapeng", "xiaoxiao", "linsen", "yizhilu", "zhangmin", "mangguo", "liuchang",
    "azhen", "xiaoyugan", "songjia", "beibei", "zhaolei", "youzi", "hexi", "panghu",
    "chengcheng", "wutong", "shiguang", "naicha", "anan", "huangchu", "xiatian", "ruoxi",
    "tuanzi", "sunqing", "jiangnan", "doudou", "laoyang", "qiuqiu", "guoxs", "qiqi",
    "maoxi", "xunuo", "maidou", "fengxue", "mumu", "luoyi", "jiuyue", "jiangxb",
)
EN_FAN_NAMES = (
    ("emma", "Emma W."), ("josh", "Josh"), ("priya", "Priya K."), ("tom", "Tom B."),
    ("nina", "Nina"), ("alex", "Alex R."), ("sofia", "Sofia M."), ("kenji", "Kenji"),
    ("olivia", "Olivia"), ("dan", "Dan P."), ("mei", "Mei L."), ("lucas", "Lucas"),
    ("hana", "Hana S."), ("ryan", "Ryan"), ("zoe", "Zoe T."), ("amir", "Amir"),
)
ZH_REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "重庆",
              "苏州", "长沙", "天津", "青岛", "厦门", "昆明", "香港", "台北")
EN_REGIONS = ("Singapore", "Kuala Lumpur", "London", "Vancouver", "Sydney", "San Francisco",
              "Toronto", "Melbourne")
FAN_BIOS_ZH = ("爱买东西也爱研究东西", "精致穷", "打工人，下班就逛", "只买用得上的",
               "收藏夹比购物车满", "", "", "学生党，预算有限", "猫奴一枚", "周末爱逛展")
FAN_BIOS_EN = ("Buy less, buy better.", "Here for the reviews.", "", "Coffee first.",
               "Wishlist curator.", "")

# Post building blocks. {product} {reason} {reason2} {con} {price} {wtag} {wtag2}
ZH_TEMPLATES = (
    "#{wtag}# 回购第三次的{product}，{reason}。到手价¥{price}，闭眼入不踩雷。",
    "被问了八百遍的{product}终于来写了！{reason}，而且{reason2}。唯一的缺点：{con}。#{wtag}#",
    "{product}用了一个月的真实感受：\n1. {reason}\n2. {reason2}\n缺点：{con}\n"
    "#{wtag}# #{wtag2}#",
    "#{wtag2}# 今天的快乐是{product}给的～{reason}。¥{price}这个价位很难挑出毛病了。",
    "认真对比了五款之后留下的是这款{product}。{reason}，{reason2}。橱窗里有链接，"
    "理性消费哦 #{wtag}#",
    "不是广告！自费买的{product}，{reason}。但是{con}，介意的朋友慎入。#{wtag}#",
)
EN_TEMPLATES = (
    "Three weeks with the {product}: {reason}, and {reason2}. The one downside: {con}. #{tag}",
    "Finally reviewing the {product} you keep asking about.\n\nPros: {reason}.\nCons: {con}.\n"
    "\nAbout ¥{price}, linked in my showcase. #{tag}",
    "Honest take on the {product}: {reason}. Would I buy it again? Yes.\n#{tag}",
    "Not sponsored. I bought the {product} with my own money because {reason}. "
    "So far {reason2}. #{tag}",
)
ZH_MENTION_TAILS = (" 和 @{who} 一起测的，结论差不多 ", " 感谢 @{who} 的安利 ",
                    " @{who} 你上次问的就是这个 ")
EN_MENTION_TAILS = (" h/t @{who} for the tip ", " @{who} this is the one I told you about ")

FAN_REPLIES_ZH = ("求链接🙏", "已下单，坐等快递", "颜值好高", "价格有点小贵，等大促再入",
                  "我也有同款，确实好用", "看完直接加购了", "请问用了多久了？", "被种草了😭",
                  "实物和图片色差大吗？", "学生党值得入吗？")
FAN_REPLIES_EN = ("Where did you get it?", "Adding to my cart!", "How is it holding up?",
                  "Is the colour true to the photos?", "Bought one after your last post, love it",
                  "Is it worth the price?")
CREATOR_ANSWERS_ZH = ("链接在我的橱窗里～", "用了两个多月了，还没发现问题", "等大促会更划算",
                      "色差不大，图是自然光拍的", "按需入就好，别冲动消费哈",
                      "谢谢支持！有问题随时问我")
CREATOR_ANSWERS_EN = ("Linked in my showcase!", "Still going strong after two months.",
                      "Very close, I shot it in daylight.",
                      "Wait for the next sale, it drops a lot.", "For me, absolutely.")
CREATOR_COMMENTS_ZH = ("同款！我也很喜欢", "这个我也想测，下次一起", "分析得很到位👍")
CREATOR_COMMENTS_EN = ("Same one here, great pick", "Great write-up!", "Adding this to my list")
BRAND_TEMPLATES_ZH = (
    "#{wtag}# 新品上线：{product}。{reason}，{reason2}。首发价¥{price}，橱窗下单享官方售后。",
    "{product}补货啦！上一批三天售罄，这次备货充足。{reason}。#{wtag}#",
    "设计师手记｜为什么{product}要这样做：{reason}。我们也听到了大家的反馈：{con}，"
    "下一版会改进。#{wtag}#",
)
BRAND_MENTION_TAILS = (" 感谢 @{who} 的真实测评 ", " 看看 @{who} 的上手体验 ")
