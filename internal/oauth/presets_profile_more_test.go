package oauth

import (
	"testing"

	"github.com/dancecard/dancecard/internal/config"
)

func atlassianProfileCases() []profileCase {
	return []profileCase{
		{name: "jira server", preset: "jira",
			set: func(c *config.Provider) { c.BaseURL = "https://www.example.com/jira" },
			routes: map[string]string{"/jira/rest/api/2/myself": `{"self":"http://www.example.com/jira/rest/api/2/user?username=fred",
 "key":"fred","name":"fred","emailAddress":"fred@example.com","avatarUrls":{
 "48x48":"http://www.example.com/jira/secure/useravatar?size=large&ownerId=fred",
 "24x24":"http://www.example.com/jira/secure/useravatar?size=small&ownerId=fred"},
 "displayName":"Fred F. User","active":true,"timeZone":"Australia/Sydney","locale":"en_AU"}`},
			want: Profile{ID: "fred", Username: "fred", Name: "Fred F. User", Email: "fred@example.com",
				AvatarURL:  "http://www.example.com/jira/secure/useravatar?size=large&ownerId=fred",
				ProfileURL: "https://www.example.com/jira/secure/ViewProfile.jspa?name=fred"}},
		{name: "jira cloud", preset: "jira",
			set: func(c *config.Provider) { c.BaseURL = "https://your-domain.atlassian.net" },
			routes: map[string]string{"/rest/api/2/myself": `{"self":"https://your-domain.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g",
 "accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","emailAddress":"mia@example.com","avatarUrls":{
 "48x48":"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/5b10a2844c20165700ede21g/48x48.png"},
 "displayName":"Mia Krystof","active":true,"timeZone":"Australia/Sydney"}`},
			want: Profile{ID: "5b10a2844c20165700ede21g", Name: "Mia Krystof", Email: "mia@example.com",
				AvatarURL:  "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/5b10a2844c20165700ede21g/48x48.png",
				ProfileURL: "https://your-domain.atlassian.net/jira/people/5b10a2844c20165700ede21g"}},
		{name: "atlassian", preset: "atlassian",
			routes: map[string]string{"/me": `{"account_type":"atlassian","account_id":"112233aa-bb11-cc22-33dd-445566abcabc",
 "email":"mia@example.com","name":"Mia Krystof",
 "picture":"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/112233aa-bb11-cc22-33dd-445566abcabc/1234abcd-9876-54aa-33aa-1234dfsade9487ds",
 "account_status":"active","nickname":"mkrystof","zoneinfo":"Australia/Sydney","locale":"en-US",
 "extended_profile":{"job_title":"Designer","organization":"mia@example.com","department":"Design team","location":"Sydney"}}`},
			want: Profile{ID: "112233aa-bb11-cc22-33dd-445566abcabc", Username: "mkrystof", Name: "Mia Krystof", Email: "mia@example.com",
				AvatarURL: "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/112233aa-bb11-cc22-33dd-445566abcabc/1234abcd-9876-54aa-33aa-1234dfsade9487ds"}},
	}
}

// twitterUser is a verify_credentials answer for an account with a 64-bit
// snowflake id: the numeric id has lost its last digits once a float64 has
// held it, which is why id_str exists.
const twitterUser = `{"id":1234567890123456789,"id_str":"1234567890123456789","name":"notinourselves",
 "screen_name":"notinourselves","location":"","description":"","url":null,"protected":true,
 "followers_count":1,"friends_count":2,"created_at":"Wed Oct 21 23:53:04 +0000 2015","verified":false,
 "profile_image_url":"http://abs.twimg.com/sticky/default_profile_images/default_profile_2_normal.png",
 "profile_image_url_https":"https://abs.twimg.com/sticky/default_profile_images/default_profile_2_normal.png",
 "default_profile":false,"email":"test@example.com"}`

func socialProfileCases() []profileCase {
	discord := func(avatar, discriminator string) string {
		return `{"id":"80351110224678912","username":"Nelly","discriminator":"` + discriminator + `",
 "avatar":` + avatar + `,"verified":true,"email":"nelly@discord.com","flags":64,
 "banner":"06c16474723fe537c283b8efa61a30c8","accent_color":16711680,"premium_type":1,"public_flags":64}`
	}
	nelly := func(avatar string) Profile {
		return Profile{ID: "80351110224678912", Username: "Nelly", Name: "Nelly", Email: "nelly@discord.com",
			EmailVerified: true, AvatarURL: avatar, ProfileURL: "https://discord.com/users/80351110224678912"}
	}
	return []profileCase{
		{name: "facebook", preset: "facebook",
			routes: map[string]string{"/v22.0/me": `{"id":"10158345693741223","name":"Jane Doe","email":"jane@example.com",
 "picture":{"data":{"height":200,"is_silhouette":false,
 "url":"https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158345693741223&height=200&width=200","width":200}}}`},
			want: Profile{ID: "10158345693741223", Name: "Jane Doe", Email: "jane@example.com",
				AvatarURL: "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158345693741223&height=200&width=200"}},
		{name: "twitter", preset: "twitter",
			routes: map[string]string{"/1.1/account/verify_credentials.json?include_email=true&skip_status=true": twitterUser},
			want: Profile{ID: "1234567890123456789", Username: "notinourselves", Name: "notinourselves",
				Email: "test@example.com", EmailVerified: true,
				AvatarURL:  "https://abs.twimg.com/sticky/default_profile_images/default_profile_2_normal.png",
				ProfileURL: "https://x.com/notinourselves"}},
		{name: "x", preset: "x",
			routes: map[string]string{"/2/users/me?user.fields=profile_image_url": `{"data":{"id":"2244994945",
 "name":"X Dev","username":"TwitterDev",
 "profile_image_url":"https://pbs.twimg.com/profile_images/1354494203451961345/d8HkZl6p_normal.jpg"}}`},
			want: Profile{ID: "2244994945", Username: "TwitterDev", Name: "X Dev",
				AvatarURL:  "https://pbs.twimg.com/profile_images/1354494203451961345/d8HkZl6p_normal.jpg",
				ProfileURL: "https://x.com/TwitterDev"}},
		{name: "discord avatar hash", preset: "discord",
			routes: map[string]string{"/api/users/@me": discord(`"8342729096ea3675442027381ff50dfe"`, "1337")},
			want:   nelly("https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png")},
		{name: "discord animated avatar", preset: "discord",
			routes: map[string]string{"/api/users/@me": discord(`"a_8342729096ea3675442027381ff50dfe"`, "0")},
			want:   nelly("https://cdn.discordapp.com/avatars/80351110224678912/a_8342729096ea3675442027381ff50dfe.gif")},
		{name: "discord default avatar", preset: "discord",
			routes: map[string]string{"/api/users/@me": discord(`null`, "0")},
			want:   nelly("https://cdn.discordapp.com/embed/avatars/5.png")}, // (80351110224678912 >> 22) % 6
		{name: "discord legacy default avatar", preset: "discord",
			routes: map[string]string{"/api/users/@me": discord(`null`, "1337")},
			want:   nelly("https://cdn.discordapp.com/embed/avatars/2.png")}, // 1337 % 5
		{name: "reddit", preset: "reddit",
			routes: map[string]string{"/api/v1/me": `{"id":"1w72","name":"spez",
 "icon_img":"https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_snoo-headshot.png?width=256&amp;height=256&amp;crop=256:256,smart&amp;s=1a2e0e4f",
 "created_utc":1118030400.0,"verified":true,"has_verified_email":true,"is_employee":true,"link_karma":1000}`},
			want: Profile{ID: "1w72", Username: "spez", Name: "spez",
				AvatarURL:  "https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_snoo-headshot.png?width=256&height=256&crop=256:256,smart&s=1a2e0e4f",
				ProfileURL: "https://www.reddit.com/user/spez/"}},
		{name: "meetup", preset: "meetup",
			routes: map[string]string{"/gql-ext": `{"data":{"self":{"id":1234,"name":"Cool Developer"}}}`},
			want:   Profile{ID: "1234", Name: "Cool Developer"}},
	}
}

func serviceProfileCases() []profileCase {
	return []profileCase{
		{name: "dropbox", preset: "dropbox",
			routes: map[string]string{"/2/users/get_current_account": `{"account_id":"dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
 "disabled":false,"email":"franz@dropbox.com","email_verified":true,"is_paired":false,"locale":"en",
 "name":{"abbreviated_name":"FF","display_name":"Franz Ferdinand (Personal)","familiar_name":"Franz","given_name":"Franz","surname":"Ferdinand"},
 "profile_photo_url":"https://dl-web.dropbox.com/account_photo/get/dbaphid%3AAAHWGmIXV3sUuOmBfTz0wPsiqHUpBWvv3ZA?vers=1556069330102&size=128x128",
 "referral_link":"https://db.tt/ZITNuhtI","account_type":{".tag":"basic"},
 "root_info":{".tag":"user","home_namespace_id":"3235641","root_namespace_id":"3235641"},"country":"US"}`},
			want: Profile{ID: "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", Name: "Franz Ferdinand (Personal)",
				Email: "franz@dropbox.com", EmailVerified: true,
				AvatarURL: "https://dl-web.dropbox.com/account_photo/get/dbaphid%3AAAHWGmIXV3sUuOmBfTz0wPsiqHUpBWvv3ZA?vers=1556069330102&size=128x128"}},
		{name: "nylas eu", preset: "nylas",
			set: func(c *config.Provider) { c.BaseURL = "https://api.eu.nylas.com" },
			routes: map[string]string{"/v3/grants/me": `{"request_id":"5967ca40-a2d8-4ee0-a0e0-6f18ace39a90","data":{
 "id":"e19f8e1a-eb1c-41c0-b6a6-d2e59daf7f47","provider":"google","grant_status":"valid","email":"leyah@example.com",
 "name":"Leyah Miller","scope":["https://www.googleapis.com/auth/gmail.readonly"],"state":"my-state",
 "created_at":1617817109,"updated_at":1617817109,"provider_user_id":"123456789"}}`},
			want: Profile{ID: "e19f8e1a-eb1c-41c0-b6a6-d2e59daf7f47", Username: "leyah@example.com", Name: "Leyah Miller",
				Email: "leyah@example.com"}},
		{name: "spotify", preset: "spotify",
			routes: map[string]string{"/v1/me": `{"country":"SE","display_name":"JM Wizzler","email":"email@example.com",
 "explicit_content":{"filter_enabled":false,"filter_locked":false},"external_urls":{"spotify":"https://open.spotify.com/user/wizzler"},
 "followers":{"href":null,"total":3829},"href":"https://api.spotify.com/v1/users/wizzler","id":"wizzler",
 "images":[{"height":300,"url":"https://i.scdn.co/image/ab6775700000ee8555c25988a6ac314394d3fbf5","width":300},
 {"height":64,"url":"https://i.scdn.co/image/ab67757000003b8255c25988a6ac314394d3fbf5","width":64}],
 "product":"premium","type":"user","uri":"spotify:user:wizzler"}`},
			want: Profile{ID: "wizzler", Username: "wizzler", Name: "JM Wizzler", Email: "email@example.com",
				AvatarURL:  "https://i.scdn.co/image/ab6775700000ee8555c25988a6ac314394d3fbf5",
				ProfileURL: "https://open.spotify.com/user/wizzler"}},
		{name: "strava", preset: "strava",
			routes: map[string]string{"/api/v3/athlete": `{"id":1234567890987654321,"username":"marianne_t","resource_state":3,
 "firstname":"Marianne","lastname":"Teutenberg","city":"San Francisco","state":"CA","country":"US","sex":"F",
 "premium":true,"created_at":"2017-11-14T02:30:05Z","badge_type_id":4,
 "profile_medium":"https://xxxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/medium.jpg",
 "profile":"https://xxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/large.jpg",
 "friend":null,"follower":null,"follower_count":5,"friend_count":5,"clubs":[],"bikes":[],"shoes":[]}`},
			want: Profile{ID: "1234567890987654321", Username: "marianne_t", Name: "Marianne Teutenberg",
				AvatarURL:  "https://xxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/large.jpg",
				ProfileURL: "https://www.strava.com/athletes/1234567890987654321"}},
		{name: "foursquare", preset: "foursquare",
			routes: map[string]string{"/v2/users/self?v=20240101": `{"meta":{"code":200,"requestId":"5ac51d7e6a607143d811cecb"},
 "response":{"user":{"id":"1234567","firstName":"Jimmy","lastName":"Foursquare","gender":"male","relationship":"self",
 "canonicalUrl":"https://foursquare.com/user/1234567",
 "photo":{"prefix":"https://fastly.4sqi.net/img/user/","suffix":"/1234567-ABCDEFGHIJKLMNOP.jpg"},
 "homeCity":"New York, NY","bio":"","contact":{"email":"jimmy@example.com"}}}}`},
			want: Profile{ID: "1234567", Name: "Jimmy Foursquare", Email: "jimmy@example.com",
				AvatarURL:  "https://fastly.4sqi.net/img/user/original/1234567-ABCDEFGHIJKLMNOP.jpg",
				ProfileURL: "https://foursquare.com/user/1234567"}},
		{name: "digitalocean", preset: "digitalocean",
			routes: map[string]string{"/v2/account": `{"account":{"droplet_limit":25,"floating_ip_limit":5,
 "email":"sammy@digitalocean.com","name":"Sammy the Shark","uuid":"b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
 "email_verified":true,"status":"active","status_message":" ",
 "team":{"uuid":"5df3e3004a17e242b7c20ca6c9fc25b701a47ece","name":"My Team"}}}`},
			want: Profile{ID: "b6fr89dbf6d9156cace5f3c78dc9851d957381ef", Name: "Sammy the Shark",
				Email: "sammy@digitalocean.com", EmailVerified: true}},
	}
}

func chinaProfileCases() []profileCase {
	return []profileCase{
		{name: "douban", preset: "douban",
			routes: map[string]string{"/v2/user/~me": `{"id":"1000001","uid":"ahbei","name":"阿北",
 "avatar":"http://img3.douban.com/icon/u1000001-28.jpg","alt":"http://www.douban.com/people/ahbei/",
 "relation":"contact","created":"2006-01-09 21:12:47","loc_id":"108288","loc_name":"北京","desc":"豆瓣的临时总管"}`},
			want: Profile{ID: "1000001", Username: "ahbei", Name: "阿北", AvatarURL: "http://img3.douban.com/icon/u1000001-28.jpg",
				ProfileURL: "http://www.douban.com/people/ahbei/"}},
		{name: "weibo uid then user", preset: "weibo",
			routes: map[string]string{
				"/2/account/get_uid.json": `{"uid":1404376560}`,
				"/2/users/show.json?uid=1404376560": `{"id":1404376560,"idstr":"1404376560","screen_name":"zaku","name":"zaku",
 "province":"11","city":"5","location":"北京 朝阳区","description":"人生五十年，乃如梦如幻；有生斯有死，壮士复何憾。",
 "url":"http://blog.sina.com.cn/zaku","profile_image_url":"http://tp1.sinaimg.cn/1404376560/50/0/1","domain":"zaku",
 "gender":"m","followers_count":1204,"friends_count":447,"statuses_count":2908,"verified":false,
 "avatar_large":"http://tp1.sinaimg.cn/1404376560/180/0/1","online_status":0,"bi_followers_count":215}`},
			want: Profile{ID: "1404376560", Username: "zaku", Name: "zaku", AvatarURL: "http://tp1.sinaimg.cn/1404376560/180/0/1",
				ProfileURL: "https://weibo.com/u/1404376560"},
			hits: []string{"/2/account/get_uid.json", "/2/users/show.json?uid=1404376560"}},
	}
}

// TestTwitterNumericID shows why the preset maps id_str: mapping the numeric
// id still keeps every digit, because numbers are decoded exactly.
func TestTwitterNumericID(t *testing.T) {
	p, err := MapJSON([]byte(twitterUser), ProfileMap{ID: "id"})
	if err != nil || p.ID != "1234567890123456789" {
		t.Fatalf("numeric id = %q, %v", p.ID, err)
	}
}
