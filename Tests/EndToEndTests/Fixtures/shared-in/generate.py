import json,uuid
def rec(acct,t,name="DescribeInstances",ip="198.51.100.7",ua="aws-cli/2.15",ak=None,ids=None,typ=None):
    r={"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA"+acct,"arn":f"arn:aws:iam::{acct}:user/u{acct}","accountId":acct,"accessKeyId":ak or ("AKIA"+acct)},"eventTime":t,"eventSource":"ec2.amazonaws.com","eventName":name,"awsRegion":"us-east-1","sourceIPAddress":ip,"userAgent":ua,"requestParameters":None,"responseElements":None,"requestID":"r-1","eventID":str(uuid.uuid4()),"readOnly":False,"eventType":"AwsApiCall","recipientAccountId":acct}
    if ids:
        items=[{"instanceId":i,"instanceType":typ,"instanceState":{"code":0,"name":"pending"}} for i in ids]
        r["requestParameters"]={"instancesSet":{"items":[{"imageId":"ami-1","minCount":1,"maxCount":1}]},"instanceType":typ}; r["responseElements"]={"instancesSet":{"items":items}}
    return r
A,Bc="111111111111","222222222222"
f1=[]
for acct in (A,Bc):
    for s in range(6): f1.append(rec(acct,f"2026-03-01T01:00:{10+s:02d}Z",ip="203.0.113.9",ua="gpu-launcher/0.3.1 (linux)",ak="AKIASHAREDKEY0001"))
f1.append(rec(A,"2026-03-01T01:00:30Z",name="RunInstances",ip="203.0.113.9",ua="gpu-launcher/0.3.1 (linux)",ak="AKIASHAREDKEY0001",ids=["i-0a"],typ="p5.48xlarge"))
for k in range(20):
    acct=f"4444444444{k:02d}"
    for s in range(4): f1.append(rec(acct,f"2026-03-01T01:01:{s:02d}Z",ip=f"198.51.{k}.1",ua=f"tool{k}/1.0"))
open("AWSLogs_a_20260301T0100Z.json","w").write(json.dumps({"Records":f1}))
f2=[rec("333333333333","2026-03-01T01:04:59Z",ip="192.0.2.44",ua="other/9"), rec("333333333333","2026-03-01T08:00:00Z",ip="192.0.2.44",ua="other/9")]
open("AWSLogs_z_20260301T0105Z.json","w").write(json.dumps({"Records":f2}))
open("m.csv","w").write("provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\naws,222222222222,,C-2,CN,2025-01-01T00:00:00Z,\n")
