package org

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Xicheng District (西城区), Beijing.
//
// Sources and what is demo data:
//   - Sub-district names and the 15-way split: 西城区人民政府 (since the 2010
//     merger with 宣武区).
//   - Areas: published per-sub-district figures (they sum to 50.65 km²
//     against the district's official 50.70 km²; sources differ by a few
//     hundredths of a km² for some sub-districts).
//   - Populations: DEMO DATA. The district total, 1,106,214, is the 2020
//     census (第七次全国人口普查) resident population of 西城区; the split across
//     sub-districts is an estimate made for this data set, not a published
//     figure, so every sub-district carries Demo = true.
//   - Community names: the residents' committees (社区居委会) listed for 西城区 in
//     the National Bureau of Statistics' statistical division codes
//     (统计用区划代码), 263 in all; later mergers and renamings are not
//     reflected. Community populations are not held (0).
//   - 椿树街道 lists its seven real communities; no community is invented
//     (an earlier 椿树演示社区 was removed: the demo uses real names only).
//   - Office phones: DEMO DATA. Every sub-district office and community
//     office carries an invented landline of the form 010-66SSCC00 (SS the
//     sub-district's place in the list, CC the community's, 00 for the
//     sub-district office), so the site can show one; a deployment loads
//     the real numbers.
//   - Reference points (WGS-84): sub-district centres are approximate
//     (read off a map to about 300 m); community points are DEMO DATA,
//     spread evenly around their sub-district's centre within its area
//     (communitySpread), not surveyed. The district boundary is a coarse
//     outline of 西城区 (16 vertices, error up to a few hundred metres);
//     it only decides whether "use my location" is answered at all.
const (
	xichengCode = "xicheng"
	xichengName = "西城区"
	// xichengCensus2020 is the district's 2020 census resident population;
	// the demo per-sub-district populations below sum to it exactly.
	xichengCensus2020 = 1106214
)

type subDistrictSeed struct {
	code, name   string
	areaKM2Milli int64
	population   int64 // demo estimate, see above
	communities  []string
}

// xichengCenters are the sub-districts' approximate centres, WGS-84.
var xichengCenters = map[string]Point{
	"xichanganjie": {39.9040, 116.3800}, "xinjiekou": {39.9400, 116.3670}, "desheng": {39.9550, 116.3780},
	"yuetan": {39.9130, 116.3450}, "jinrongjie": {39.9180, 116.3620}, "zhanlanlu": {39.9300, 116.3380},
	"shichahai": {39.9370, 116.3840}, "dashilan": {39.8930, 116.3900}, "tianqiao": {39.8810, 116.3900},
	"chunshu": {39.8930, 116.3750}, "taoranting": {39.8750, 116.3800}, "guanganmennei": {39.8930, 116.3570},
	"niujie": {39.8820, 116.3620}, "baizhifang": {39.8720, 116.3500}, "guanganmenwai": {39.8820, 116.3250},
}

// xichengBoundary is a coarse outline of the district, clockwise from the
// north-west corner of 德胜街道 at the North Third Ring Road.
var xichengBoundary = []Point{
	{39.9680, 116.3580}, {39.9680, 116.3950}, {39.9480, 116.4000}, {39.9320, 116.4000},
	{39.9120, 116.3920}, {39.8990, 116.3980}, {39.8660, 116.4020}, {39.8620, 116.3600},
	{39.8580, 116.3300}, {39.8620, 116.3050}, {39.9000, 116.3080}, {39.9100, 116.3220},
	{39.9350, 116.3180}, {39.9450, 116.3220}, {39.9430, 116.3500}, {39.9550, 116.3560},
}

// communitySpread places the i-th of n demo community points around centre
// on a sunflower spiral filling three quarters of a disc of the
// sub-district's area: evenly spaced, distinct, and inside the district.
func communitySpread(center Point, areaKM2Milli int64, i, n int) *Point {
	radiusKM := 0.75 * math.Sqrt(float64(areaKM2Milli)/1000/math.Pi)
	r := radiusKM * math.Sqrt((float64(i)+0.5)/float64(n))
	theta := float64(i) * 2.399963229728653 // the golden angle
	const kmPerDegLat = 111.32
	lat := center.Lat + r*math.Sin(theta)/kmPerDegLat
	lng := center.Lng + r*math.Cos(theta)/(kmPerDegLat*math.Cos(center.Lat*math.Pi/180))
	return &Point{Lat: math.Round(lat*1e6) / 1e6, Lng: math.Round(lng*1e6) / 1e6}
}

// Communities are written "slug 名称"; a trailing " demo" would mark an
// invented one (there is none).
// The full community code is "<sub-district code>-<slug>" and the name gets
// the 社区 suffix.
var xichengSeed = []subDistrictSeed{
	{"xichanganjie", "西长安街街道", 4240, 40000, []string{
		"fuyoujienan 府右街南", "xijiaominxiang 西交民巷", "beixinhuajie 北新华街",
		"liubukou 六部口", "hepingmen 和平门", "zhongsheng 钟声", "taipusijie 太仆寺街",
		"xihuangchenggennanjie 西黄城根南街", "yidali 义达里", "xidanbei 西单北", "weiying 未英",
	}},
	{"xinjiekou", "新街口街道", 3700, 90000, []string{
		"xilierqu 西里二区", "xiliyiqu 西里一区", "xilisiqu 西里四区", "beicaochang 北草厂",
		"xilisanqu 西里三区", "yutaoyuan 玉桃园", "xisibeitoutiao 西四北头条",
		"xisibeisantiao 西四北三条", "xisibeiliutiao 西四北六条", "yude 育德",
		"qiangongyong 前公用", "banbijie 半壁街", "nanxiaojie 南小街", "guanyingyuan 冠英园",
		"dajue 大觉", "fuguoli 富国里", "anpingxiang 安平巷", "guanyuan 官园",
		"gongmenkou 宫门口", "beishun 北顺", "zhongzhi 中直",
	}},
	{"desheng", "德胜街道", 4140, 105000, []string{
		"andelunan 安德路南", "andelubei 安德路北", "deshengli 德胜里", "dewaidajiexi 德外大街西",
		"xinmingjiayuan 新明家园", "xinfengzhongzhi 新风中直", "xinwaidajiebei 新外大街北",
		"xinkang 新康", "madian 马甸", "rendinghuxili 人定湖西里", "huangsidajiexi 黄寺大街西",
		"shuangqigan 双旗杆", "beiguang 北广", "huangsidajie24 黄寺大街24号",
		"yuzhongxili 裕中西里", "yuzhongdongli 裕中东里", "yangguanglijing 阳光丽景",
		"dewaidajiedong 德外大街东", "liupukangbeixiaojie 六铺炕北小街",
		"liupukangnanxiaojie 六铺炕南小街",
	}},
	{"yuetan", "月坛街道", 4130, 110000, []string{
		"yuetan 月坛", "shehuilu 社会路", "tiedaobudisan 铁道部住宅区第三", "sanliheyiqu 三里河一区",
		"nanshagou 南沙沟", "fuxingmenbeidajie 复兴门北大街", "tiedaobudierer 铁道部住宅区第二、二",
		"fuxingmenwaidajiejia7 复兴门外大街甲7号院", "sanliheerqu 三里河二区",
		"sanlihesanqudiyi 三里河三区第一", "sanlihesanqudisan 三里河三区第三",
		"nanlishilu 南礼士路", "muxidi 木樨地", "fuxingmenwai 复兴门外",
		"quanguozonggonghui 全国总工会住宅区", "baiyunguan 白云观", "zhenwumiao 真武庙",
		"guangdiandier 广电总局住宅区第二", "xibianmen 西便门", "tiedaobudieryi 铁道部住宅区第二、一",
		"guangdiandiyi 广电总局住宅区第一", "qichejuhenan 汽车局河南", "qichejuhebei 汽车局河北",
		"gonganzhuzhaiqu 公安住宅区", "tiedaobudisi 铁道部住宅区第四", "sanlihe 三里河",
	}},
	{"jinrongjie", "金融街街道", 3780, 70000, []string{
		"jingjidao 京畿道", "xitaipingjie 西太平街", "erlonglu 二龙路", "dongtaipingjie 东太平街",
		"wenjiajie 温家街", "shoushuihe 受水河", "wenchang 文昌", "shoupa 手帕",
		"xinwenhuajie 新文化街", "xinhuashe 新华社", "zhongyangyinyuexueyuan 中央音乐学院",
		"jiaoyubu 教育部", "minkang 民康", "fenghuiyuan 丰汇园", "honghuiyuan 宏汇园",
		"fengrongyuan 丰融园", "fengsheng 丰盛", "dayuan 大院", "zhuanta 砖塔", "huajia 华嘉",
	}},
	{"zhanlanlu", "展览路街道", 5870, 125000, []string{
		"wenxingjie 文兴街", "chaoyangan 朝阳庵", "santa 三塔", "xinhuanan 新华南",
		"baiwanzhuangdong 百万庄东", "baiwanzhuangxi 百万庄西", "chegongzhuang 车公庄",
		"xinhuadong 新华东", "xinhuali 新华里", "yushuguan 榆树馆", "debao 德宝", "tuanjie 团结",
		"beiyingfangxili 北营房西里", "beiyingfangdongli 北营房东里", "huangguayuan 黄瓜园",
		"luyuan 露园", "fuwaixi 阜外西", "hongmaogou 洪茂沟", "fuwaidong 阜外东",
		"nanyingfang 南营房", "wanmingyuan 万明园", "binhe 滨河", "kouzhong 扣钟",
	}},
	{"shichahai", "什刹海街道", 5800, 90000, []string{
		"xisibei 西四北", "xishiku 西什库", "aiminjie 爱民街", "dahongluo 大红罗", "xixiang 西巷",
		"huguosi 护国寺", "qiantie 前铁", "liuyinjie 柳荫街", "xinghua 兴华", "songshujie 松树街",
		"baimi 白米", "jingshan 景山", "miliangku 米粮库", "jiugulou 旧鼓楼", "shuangsi 双寺",
		"guxi 鼓西", "houhai 后海", "weikeng 苇坑", "houhaixiyan 后海西沿", "xihai 西海",
		"sihuan 四环", "qianhai 前海",
	}},
	{"dashilan", "大栅栏街道", 1260, 30000, []string{
		"qianmenxiheyan 前门西河沿", "yanshoujie 延寿街", "sanjing 三井", "dashilanxijie 大栅栏西街",
		"shitou 石头", "tieshuxiejie 铁树斜街", "baishun 百顺", "daanlanying 大安澜营",
		"meishijiedong 煤市街东",
	}},
	{"tianqiao", "天桥街道", 2070, 40000, []string{
		"liuxuelu 留学路", "xiangchanglu 香厂路", "tianqiaoxiaoqu 天桥小区", "luchangjie 禄长街",
		"xiannongtan 先农坛", "yonganlu 永安路", "hufanglu 虎坊路", "taipingjie 太平街",
		"fuchangjie 福长街",
	}},
	{"chunshu", "椿树街道", 1090, 28000, []string{
		"xuanwumenwaidongdajie 宣武门外东大街", "liulichangxijie 琉璃厂西街", "chunshuyuan 椿树园",
		"sichuanying 四川营", "liangjiayuan 梁家园", "xiangluying 香炉营", "yongguang 永光",
	}},
	{"taoranting", "陶然亭街道", 2140, 48000, []string{
		"mishi 米市", "fenfangliulijie 粉房琉璃街", "fuzhouguan 福州馆", "heiyaochang 黑窑厂",
		"longquan 龙泉", "hongtudian 红土店", "nanhuali 南华里", "xinxingli 新兴里", "yiping 壹瓶",
		"dajixiang 大吉巷",
	}},
	{"guanganmennei", "广安门内街道", 2430, 78000, []string{
		"xibianmenxili 西便门西里", "xibianmendongli 西便门东里", "huaibaishujiebeili 槐柏树街北里",
		"changchunjiexi 长椿街西", "huaibaishujienanli 槐柏树街南里", "hetaoyuan 核桃园",
		"baoguosi 报国寺", "shangxiejie 上斜街", "xuanwumenxidajie 宣武门西大街",
		"sanmiaojie 三庙街", "kangleli 康乐里", "guangandongli 广安东里", "dajiedong 大街东",
		"laoqianggen 老墙根", "changchunjie 长椿街", "xibianmennei 西便门内", "changchunli 长椿里",
		"jiaochang 校场",
	}},
	{"niujie", "牛街街道", 1410, 48000, []string{
		"niujiedongli 牛街东里", "chunfeng 春风", "gangyuan 钢院", "nanxiange 南线阁",
		"caiyuanbeili 菜园北里", "fenghua 枫桦", "fayuansi 法源寺", "baiguanglu 白广路",
		"niujiexiliyiqu 牛街西里一区", "niujiexilierqu 牛街西里二区",
	}},
	{"baizhifang", "白纸坊街道", 3100, 88000, []string{
		"shuanghuaili 双槐里", "youbeidajie 右北大街", "yingtaoyuan 樱桃园", "chongxiaosi 崇效寺",
		"caiyuanjie 菜园街", "jiangongbeili 建功北里", "jiangongnanli 建功南里",
		"xinanzhongli 新安中里", "xinannanli 新安南里", "youneixijie 右内西街",
		"youneihoushen 右内后身", "guangyuanli 光源里", "banbuqiao 半步桥", "zixinlu 自新路",
		"lirenjie 里仁街", "wanboyuan 万博苑", "qingzhiyuan 清芷园", "pingyuanlibeiqu 平原里北区",
		"pingyuanlinanqu 平原里南区",
	}},
	{"guanganmenwai", "广安门外街道", 5490, 116214, []string{
		"yaziqiao 鸭子桥", "qingnianhu 青年湖", "chunshuguan 椿树馆", "baicaiwan 白菜湾",
		"chezhandongjie 车站东街", "chezhanxijie 车站西街", "chezhanxijie15 车站西街十五号院",
		"hongjunanjie 红居南街", "hongjujie 红居街", "shoupakounanjie 手帕口南街",
		"langqinyuan 朗琴园", "hongliannanli 红莲南里", "honglianzhongli 红莲中里",
		"honglianbeili 红莲北里", "wanzijie 湾子街", "maliandao 马连道", "sanyili 三义里",
		"maliandaozhongli 马连道中里", "sanyidongli 三义东里", "lianhuahe 莲花河",
		"xiaomachangxi 小马厂西", "tianningsibeili 天宁寺北里", "tianningsinanli 天宁寺南里",
		"shoupakoubeijie 手帕口北街", "erre 二热", "lecheng 乐城", "yilianxuan 依莲轩",
		"diecuihuating 蝶翠华庭", "zhongxinjiayuan 中新佳园", "chamabeijie 茶马北街",
		"chamananjie 茶马南街", "guangyuan 广源", "jingtieheyuan 京铁和园",
		"xiaomachangdong 小马厂东", "rongfengnan 荣丰南", "rongfengbei 荣丰北", "chayuan 茶源",
		"mingyuan 名苑",
	}},
}

// xichengDistrict builds the District value from the seed table.
func xichengDistrict() District {
	d := District{Code: xichengCode, Name: xichengName, Boundary: append([]Point(nil), xichengBoundary...)}
	for si, s := range xichengSeed {
		center := xichengCenters[s.code]
		sd := SubDistrict{
			Code:         s.code,
			Name:         s.name,
			AreaKM2Milli: s.areaKM2Milli,
			Population:   s.population,
			OfficePhone:  fmt.Sprintf("010-66%02d0000", si+1),
			Center:       &center,
			Demo:         true, // population, phone and points are demo data, see the file comment
		}
		for ci, entry := range s.communities {
			f := strings.Fields(entry)
			c := Community{
				Code:            s.code + "-" + f[0],
				Name:            f[1] + "社区",
				SubDistrictCode: s.code,
				OfficePhone:     fmt.Sprintf("010-66%02d%02d00", si+1, ci+1),
				Center:          communitySpread(center, s.areaKM2Milli, ci, len(s.communities)),
				Demo:            len(f) > 2 && f[2] == "demo",
			}
			sd.Communities = append(sd.Communities, c)
		}
		d.SubDistricts = append(d.SubDistricts, sd)
	}
	return d
}

var xichengDirectory = sync.OnceValue(func() *Directory {
	dir, err := NewDirectory(xichengDistrict())
	if err != nil {
		// The table is fixed at compile time and covered by tests.
		panic("org: invalid built-in Xicheng data: " + err.Error())
	}
	return dir
})

// Xicheng returns the directory of Xicheng District (西城区). It is built
// once and shared; the Directory is immutable, so sharing is safe.
func Xicheng() *Directory { return xichengDirectory() }
