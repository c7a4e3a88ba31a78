package demo

// template is a kind of request residents make, booked under one catalog
// item. Amounts are demo figures in yuan; zero means the request costs the
// budget nothing (mediation, a complaint passed on).
type template struct {
	area, item string
	titles     []string // "%s" is the courtyard or building, when present
	desc       string
	estYuan    [2]int64
	households [2]int
	risk       int
	elderly    bool
}

func (t *template) costs() bool { return t.estYuan[1] > 0 }

// The article's own examples come first: 旱厕改造 and 路面整理 in 丰盛社区10号院,
// 养老驿站, 停车自治, 大件垃圾清运处置.
var (
	tplToilet   = &template{"SQ", "SQ-05-04", []string{"%s旱厕改造", "%s旱厕需改造为水冲厕所"}, "院内旱厕设施破旧，卫生情况堪忧，粪便需要人工清掏，夏天气味很大，请求改造。", [2]int64{42000, 50000}, [2]int{6, 20}, 2, true}
	tplGround   = &template{"SQ", "SQ-05-03", []string{"%s地面坑洼不平", "%s路面整理"}, "院内地面坑洼不平，雨天积水，老人出行容易摔倒，希望整理路面。", [2]int64{30000, 120000}, [2]int{5, 30}, 2, true}
	tplParking  = &template{"SQ", "SQ-03-02", []string{"胡同停车难，申请成立停车自管会", "小区停车秩序混乱，希望停车自治"}, "胡同里车辆乱停，消防车进不来，居民希望通过停车自治统一划定车位、轮流值守。", [2]int64{20000, 60000}, [2]int{40, 200}, 2, false}
	tplElderly  = &template{"MS", "MS-02-01", []string{"希望社区养老驿站增加助餐和日间照料", "养老驿站服务时间太短"}, "社区老人多，养老驿站服务项目少、开放时间短，希望增加助餐、日间照料等服务。", [2]int64{30000, 120000}, [2]int{50, 300}, 1, true}
	tplBulky    = &template{"CG", "CG-01-02", []string{"楼下堆放旧沙发床垫，申请大件垃圾清运", "大件垃圾堆放多日无人清运"}, "楼下堆放了旧家具、沙发和床垫，已经好几天了，占用通道，请安排大件垃圾清运。", [2]int64{600, 3000}, [2]int{20, 80}, 1, false}
	tplElevator = &template{"SQ", "SQ-05-02", []string{"%s老楼加装电梯"}, "六层老楼没有电梯，楼里老人多，上下楼困难，居民意见已基本统一，申请加装电梯。", [2]int64{550000, 750000}, [2]int{12, 24}, 1, true}
	tplDrain    = &template{"SQ", "SQ-05-05", []string{"%s下水道堵塞", "%s化粪池污水外溢"}, "院内下水道经常堵塞，污水外溢，影响出行和卫生。", [2]int64{3000, 15000}, [2]int{5, 25}, 2, false}
)

// templates is the pool the plan draws from, by area.
var templates = map[string][]*template{
	"SQ": {
		tplToilet, tplGround, tplParking, tplDrain,
		{"SQ", "SQ-05-06", []string{"%s楼道灯不亮", "%s单元门门禁损坏"}, "楼道灯坏了很久，晚上上下楼看不清，老人容易摔倒。", [2]int64{500, 3000}, [2]int{10, 40}, 1, true},
	},
	"CG": {
		tplBulky,
		{"CG", "CG-02-01", []string{"胡同环境脏乱，申请背街小巷整治", "街巷墙面破损，希望整治"}, "胡同墙面破损、杂物乱堆，影响街巷环境，希望纳入背街小巷环境整治。", [2]int64{50000, 200000}, [2]int{30, 150}, 1, false},
		{"CG", "CG-04-01", []string{"胡同路灯不亮", "街巷照明不足"}, "胡同里的路灯坏了，晚上一片漆黑，居民出行不安全。", [2]int64{2000, 8000}, [2]int{20, 100}, 2, false},
		{"CG", "CG-04-04", []string{"雨后路口积水严重", "雨水篦子堵塞"}, "一下雨路口就积水，最深处没过脚踝，雨水篦子堵塞。", [2]int64{5000, 30000}, [2]int{30, 120}, 2, false},
		{"CG", "CG-06-04", []string{"夜间施工噪音扰民"}, "附近工地夜里十一点以后还在施工，噪音很大，影响休息。", [2]int64{0, 0}, [2]int{20, 80}, 1, false},
		{"CG", "CG-03-02", []string{"%s树枝遮挡窗户，申请修剪", "%s枯树有倒伏危险"}, "院内大树树枝伸到窗前，遮挡采光，刮风时有折断危险。", [2]int64{800, 4000}, [2]int{3, 15}, 2, false},
	},
	"MS": {
		tplElderly,
		{"MS", "MS-02-02", []string{"希望老年餐桌送餐上门"}, "独居老人做饭不方便，希望老年餐桌能送餐上门。", [2]int64{5000, 20000}, [2]int{10, 60}, 1, true},
		{"MS", "MS-02-04", []string{"居家适老化改造，卫生间安装扶手", "家中需要防滑地面改造"}, "家中老人行动不便，卫生间没有扶手，地面湿滑，申请居家适老化改造。", [2]int64{3000, 5000}, [2]int{1, 1}, 2, true},
		{"MS", "MS-07-02", []string{"小区健身器材损坏"}, "小区里的健身器材多处损坏，存在安全隐患，希望维修更换。", [2]int64{5000, 20000}, [2]int{50, 200}, 1, false},
	},
	"PA": {
		{"PA", "PA-02-03", []string{"%s楼道堆物堵塞消防通道"}, "楼道里堆放了大量杂物，堵塞消防通道，存在火灾隐患。", [2]int64{300, 1500}, [2]int{10, 40}, 3, false},
		{"PA", "PA-02-04", []string{"电动自行车飞线充电，存在火灾隐患"}, "有居民从楼上拉电线给电动自行车充电，存在火灾隐患，希望建集中充电设施。", [2]int64{8000, 30000}, [2]int{30, 120}, 3, false},
		{"PA", "PA-04-01", []string{"邻里漏水纠纷，申请调解"}, "楼上卫生间漏水到我家，多次沟通无果，希望社区帮助调解。", [2]int64{0, 0}, [2]int{2, 2}, 1, false},
		{"PA", "PA-01-03", []string{"%s门口需要安装监控"}, "院门口最近丢了几辆自行车，希望安装监控探头。", [2]int64{5000, 15000}, [2]int{10, 40}, 2, false},
	},
	"DQ": {
		{"DQ", "DQ-04-01", []string{"希望组织志愿者看望独居老人"}, "楼里独居老人多，希望社区组织志愿者定期上门看望、帮忙买菜。", [2]int64{2000, 8000}, [2]int{5, 30}, 1, true},
		{"DQ", "DQ-02-01", []string{"为快递小哥外卖骑手设置休息点"}, "附近快递小哥和外卖骑手多，夏天没有地方歇脚喝水，建议设置暖心驿站。", [2]int64{10000, 30000}, [2]int{1, 1}, 1, false},
		{"DQ", "DQ-01-05", []string{"党群服务中心活动室周末不开放"}, "社区党群服务中心活动室周末不开放，居民活动不方便。", [2]int64{0, 0}, [2]int{30, 100}, 1, false},
	},
	"ZH": {
		{"ZH", "ZH-03-04", []string{"便民服务大厅办事排队时间长"}, "街道便民服务大厅办事要排很久的队，希望增加窗口或开通网上预约。", [2]int64{0, 0}, [2]int{1, 1}, 1, false},
		{"ZH", "ZH-03-03", []string{"社区自助服务机经常死机"}, "社区的自助服务一体机经常死机，打印证明要跑到街道。", [2]int64{3000, 8000}, [2]int{50, 200}, 1, false},
	},
}

// areaWeights is how often each area is drawn, in per cent.
var areaWeights = []struct {
	area string
	pct  int
}{{"SQ", 30}, {"CG", 28}, {"MS", 16}, {"PA", 12}, {"DQ", 7}, {"ZH", 7}}

var (
	satisfiedComments = []string{"问题解决了，谢谢社区", "处理及时，很满意", "干部上门看了好几次，办得很好", ""}
	basicComments     = []string{"基本解决了，希望后续再跟进", "解决了，就是时间有点长", ""}
	dissatisComments  = []string{"问题没有彻底解决，又出现了", "处理不到位，希望返工"}
	rejectReasons     = []string{"属于物业服务合同约定事项，已告知居民联系物业", "不属于街道职责范围，已转区相关部门办理"}
	cancelReasons     = []string{"居民已自行解决", "居民撤回诉求"}
	surnames          = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"}
	givenNames        = []string{"建国", "秀英", "桂兰", "志强", "丽娟", "海燕", "国华", "淑珍", "伟", "敏", "静", "磊", "洋", "艳", "军", "杰", "娜", "涛", "明", "超"}
)
