"""Built-in seed vocabulary per default vertical (zh and en), written by us.

Used only to bootstrap: while a vertical has fewer than `MIN_EXAMPLES` real training
examples (operator examples, corrections, creators' declared verticals), its seed phrases
are added so a fresh install can label creators at all. Real examples replace them as they
accumulate. Verticals an operator adds later have no seed and wait for real examples.
"""

from __future__ import annotations

MIN_EXAMPLES = 20

SEED: dict[str, tuple[str, ...]] = {
    "fashion": (
        "今日穿搭分享 小个子显高", "秋冬外套怎么选 大衣羽绒服", "连衣裙 半身裙 搭配技巧",
        "牛仔裤 卫衣 休闲风穿搭", "通勤穿搭 衬衫西装", "运动鞋 帆布鞋 穿搭推荐",
        "outfit of the day, capsule wardrobe", "how to style a trench coat",
        "new sneakers and denim jacket haul", "summer dress and sandals lookbook",
    ),
    "beauty": (
        "口红试色 哑光唇釉", "敏感肌护肤 精华 面霜", "粉底液 遮瑕 底妆测评", "防晒霜 美白 保湿",
        "眼影盘 日常妆容教程", "卸妆 洁面 护肤步骤", "skincare routine serum moisturiser",
        "lipstick swatches and foundation review", "sunscreen for sensitive skin",
        "everyday makeup tutorial eyeshadow palette",
    ),
    "digital": (
        "手机测评 拍照 续航", "笔记本电脑 性能 跑分", "蓝牙耳机 降噪 音质", "平板 键盘 数码配件",
        "智能手表 充电器 快充", "显卡 处理器 装机", "smartphone review camera battery life",
        "laptop benchmark and noise cancelling headphones", "best USB-C charger and tablet",
        "gadget unboxing smartwatch",
    ),
    "home": (
        "家居好物 收纳整理", "租房改造 软装 布置", "厨房用品 锅具 餐具", "床品 四件套 枕头",
        "扫地机器人 家电 清洁", "客厅 沙发 灯具 装修", "home organisation and storage ideas",
        "kitchen tools cookware and tableware", "bedding duvet and pillows",
        "living room decor lamp sofa",
    ),
    "food": (
        "零食推荐 好吃不贵", "家常菜做法 红烧肉", "咖啡 奶茶 甜品 探店", "火锅 烧烤 美食",
        "早餐 便当 食谱", "水果 坚果 茶叶", "easy dinner recipe and snacks",
        "coffee tea and dessert tasting", "best hotpot and barbecue in town",
        "meal prep breakfast ideas",
    ),
    "travel": (
        "旅游攻略 景点 酒店", "自由行 机票 签证", "周末去哪儿 古镇 海边", "行李箱 旅行必备",
        "民宿 度假 自驾游", "出境游 日本 泰国 行程", "travel guide itinerary and hotels",
        "cheap flights visa tips and packing list", "weekend trip beach resort",
        "road trip and backpacking",
    ),
    "parenting": (
        "宝宝辅食 奶粉 尿不湿", "育儿经验 早教 亲子", "孕期 待产包 月子", "儿童绘本 玩具 推荐",
        "婴儿车 安全座椅", "带娃 幼儿园 家长", "baby formula diapers and stroller",
        "toddler toys and picture books", "pregnancy hospital bag checklist",
        "parenting tips for new parents",
    ),
    "sports": (
        "健身 减脂 增肌 训练", "跑步 马拉松 跑鞋", "篮球 足球 比赛 球星", "瑜伽 普拉提 运动服",
        "羽毛球 乒乓球 网球", "游泳 骑行 装备", "home workout and fat loss training",
        "marathon running shoes", "basketball football match highlights",
        "yoga mat and gym gear",
    ),
    "games": (
        "游戏 攻略 通关", "手游 王者荣耀 电竞", "主机游戏 Switch PS5", "动漫 二次元 手办",
        "Steam 新游 推荐", "电竞比赛 战队 选手", "video game walkthrough and tips",
        "esports tournament team", "new Switch and PS5 games", "anime figures and manga",
    ),
    "cars": (
        "新车 试驾 测评", "新能源汽车 电动车 续航", "SUV 轿车 油耗 保养", "车载 用品 行车记录仪",
        "二手车 购车 指南", "汽车 改装 轮胎", "new car test drive review",
        "electric vehicle range and charging", "SUV fuel economy and maintenance",
        "dash cam and car accessories",
    ),
    "finance": (
        "理财 基金 定投", "记账 省钱 存钱", "股票 投资 收益", "信用卡 保险 贷款",
        "工资 预算 规划", "银行 利率 存款", "personal finance budgeting and saving",
        "index funds investing", "credit card rewards and insurance", "stock market returns",
    ),
    "health": (
        "养生 睡眠 作息", "营养 维生素 保健品", "体检 医生 健康科普", "中医 调理 食疗",
        "减肥 饮食 控糖", "心理健康 压力 放松", "vitamins supplements and nutrition",
        "better sleep and stress relief", "health checkup tips from a doctor",
        "healthy diet low sugar",
    ),
    "books": (
        "读书 笔记 书单", "小说 推荐 作者", "阅读 分享 好书", "历史 文学 经典",
        "Kindle 电子书 阅读器", "诗歌 散文 出版", "book review and reading list",
        "novel recommendations and authors", "classic literature and history books",
        "e-reader and reading notes",
    ),
    "pets": (
        "猫粮 狗粮 宠物", "养猫 猫砂 猫咪", "遛狗 狗狗 训练", "宠物 用品 玩具",
        "宠物 医院 疫苗", "萌宠 日常 铲屎官", "cat food litter and toys",
        "dog training and walking", "pet care vaccines vet", "cute puppy and kitten",
    ),
    "music": (
        "音乐 歌单 推荐", "吉他 钢琴 乐器", "演唱会 歌手 新歌", "耳机 音响 黑胶",
        "作曲 编曲 录音", "民谣 摇滚 说唱", "playlist and new album",
        "guitar piano lessons", "concert tour singer", "vinyl records and speakers",
    ),
    "movies": (
        "电影 推荐 影评", "电视剧 追剧 综艺", "导演 演员 票房", "纪录片 动画片",
        "新片 预告 上映", "美剧 韩剧 日剧", "movie review and box office",
        "tv series binge watch", "documentary and animated film", "new trailer release",
    ),
    "education": (
        "学习方法 考研 考试", "英语 单词 口语", "网课 课程 证书", "高考 志愿 大学",
        "编程 入门 教程", "留学 申请 雅思", "study tips and exams", "learn english vocabulary",
        "online course certificate", "coding tutorial for beginners",
    ),
    "outdoors": (
        "露营 帐篷 装备", "徒步 登山 路线", "户外 冲锋衣 背包", "钓鱼 野餐 自然",
        "攀岩 滑雪 越野", "营地 天幕 炊具", "camping tent and gear", "hiking trail and backpack",
        "fishing and picnic", "ski trip and climbing",
    ),
    "photography": (
        "摄影 技巧 构图", "相机 镜头 微单", "人像 风光 后期", "手机摄影 调色",
        "胶片 拍照 器材", "无人机 航拍", "photography tips and composition",
        "mirrorless camera lens review", "portrait and landscape editing", "film camera and drone",
    ),
    "art": (
        "绘画 插画 水彩", "手工 DIY 设计", "书法 国画 艺术展", "平面设计 字体 配色",
        "陶艺 雕塑 手作", "美术馆 展览 画家", "illustration and watercolour painting",
        "graphic design typography", "art exhibition gallery", "handmade pottery and crafts",
    ),
}
