package store_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func TestNetworkRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)

		vpc1 := &ecs.VPC{ID: "vpc-1", ProjectID: project, Name: "vpc-default", CIDR: "192.168.0.0/16", Created: testTime}
		vpc2 := &ecs.VPC{ID: "vpc-2", ProjectID: project, Name: "vpc-two", CIDR: "10.0.0.0/8", Created: testTime.Add(time.Second)}
		vpcOther := &ecs.VPC{ID: "vpc-3", ProjectID: otherProject, Name: "vpc-other", CIDR: "10.0.0.0/8", Created: testTime}
		sn1 := &ecs.Subnet{ID: "subnet-1", ProjectID: project, VPCID: vpc1.ID, Name: "subnet-default", CIDR: "192.168.0.0/24",
			GatewayIP: "192.168.0.1", AZ: "cn-north-4a", Created: testTime}
		sn2 := &ecs.Subnet{ID: "subnet-2", ProjectID: project, VPCID: vpc2.ID, Name: "subnet-two", CIDR: "10.0.0.0/24",
			GatewayIP: "10.0.0.1", Created: testTime.Add(time.Second)}
		sg := &ecs.SecurityGroup{ID: "sg-1", ProjectID: project, Name: "default", Description: "Default security group",
			VPCID: vpc1.ID, Created: testTime}
		sgOther := &ecs.SecurityGroup{ID: "sg-2", ProjectID: otherProject, Name: "default", Created: testTime}
		requireAllFieldsSet(t, sn1)
		requireAllFieldsSet(t, sg)

		inTx(t, db, func(tx *sql.Tx) error {
			for _, v := range []*ecs.VPC{vpc1, vpc2, vpcOther} {
				if err := db.InsertVPC(ctx, tx, v); err != nil {
					return err
				}
			}
			for _, s := range []*ecs.Subnet{sn1, sn2} {
				if err := db.InsertSubnet(ctx, tx, s); err != nil {
					return err
				}
			}
			for _, g := range []*ecs.SecurityGroup{sg, sgOther} {
				if err := db.InsertSecurityGroup(ctx, tx, g); err != nil {
					return err
				}
			}
			return nil
		})

		inTx(t, db, func(tx *sql.Tx) error {
			vpcs, err := db.VPCs(ctx, tx, project)
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]*ecs.VPC{vpc1, vpc2}, vpcs); diff != "" {
				t.Errorf("VPCs (-want +got):\n%s", diff)
			}
			subnets, err := db.Subnets(ctx, tx, project, "")
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]*ecs.Subnet{sn1, sn2}, subnets); diff != "" {
				t.Errorf("Subnets (-want +got):\n%s", diff)
			}
			subnets, err = db.Subnets(ctx, tx, project, vpc2.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]*ecs.Subnet{sn2}, subnets); diff != "" {
				t.Errorf("Subnets of vpc-2 (-want +got):\n%s", diff)
			}
			got, err := db.SubnetByID(ctx, tx, project, sn1.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(sn1, got); diff != "" {
				t.Errorf("SubnetByID (-want +got):\n%s", diff)
			}
			for _, tc := range []struct{ projectID, id string }{{project, "subnet-nope"}, {otherProject, sn1.ID}} {
				got, err := db.SubnetByID(ctx, tx, tc.projectID, tc.id)
				if err != nil || got != nil {
					t.Errorf("SubnetByID(%q, %q) = %v, %v; want nil, nil", tc.projectID, tc.id, got, err)
				}
			}
			sgs, err := db.SecurityGroups(ctx, tx, project)
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]*ecs.SecurityGroup{sg}, sgs); diff != "" {
				t.Errorf("SecurityGroups (-want +got):\n%s", diff)
			}
			return nil
		})
	})
}

func TestNextHostNumber(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		inTx(t, db, func(tx *sql.Tx) error {
			if err := db.InsertVPC(ctx, tx, &ecs.VPC{ID: "vpc-1", ProjectID: project, CIDR: "192.168.0.0/16"}); err != nil {
				return err
			}
			for _, id := range []string{"subnet-1", "subnet-2"} {
				if err := db.InsertSubnet(ctx, tx, &ecs.Subnet{ID: id, ProjectID: project, VPCID: "vpc-1", CIDR: "192.168.0.0/24"}); err != nil {
					return err
				}
			}
			return nil
		})

		// Host numbers start at 10 (below are the gateway and reserved
		// addresses) and count up per subnet, across transactions.
		var got []int
		next := func(subnet string) {
			inTx(t, db, func(tx *sql.Tx) error {
				n, err := db.NextHostNumber(ctx, tx, subnet)
				got = append(got, n)
				return err
			})
		}
		next("subnet-1")
		next("subnet-1")
		next("subnet-2")
		next("subnet-1")
		if diff := cmp.Diff([]int{10, 11, 10, 12}, got); diff != "" {
			t.Errorf("NextHostNumber (-want +got):\n%s", diff)
		}

		// A rolled-back reservation is given out again.
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := db.NextHostNumber(ctx, tx, "subnet-2"); err != nil || n != 11 {
			t.Errorf("NextHostNumber = %d, %v; want 11", n, err)
		}
		tx.Rollback()
		got = nil
		next("subnet-2")
		if !cmp.Equal(got, []int{11}) {
			t.Errorf("NextHostNumber after a rollback = %v, want [11]", got)
		}

		inTx(t, db, func(tx *sql.Tx) error {
			if _, err := db.NextHostNumber(ctx, tx, "subnet-nope"); err == nil {
				t.Error("NextHostNumber of an unknown subnet succeeded")
			}
			return nil
		})
	})
}

func TestHosts(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		h := func(id, az string, vcpus int) ecs.Host {
			return ecs.Host{ID: id, AZ: az, VCPUs: vcpus, RAMMB: vcpus * 4096, Arch: "x86_64"}
		}
		inTx(t, db, func(tx *sql.Tx) error {
			return db.ReplaceHosts(ctx, tx, []ecs.Host{h("b-2", "az-b", 8), h("a-1", "az-a", 16), h("a-2", "az-a", 32)})
		})
		// A server on a-2 keeps that host when it disappears from the layout.
		srv := fullServer("srv-1")
		srv.HostID = "a-2"
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, srv) })
		inTx(t, db, func(tx *sql.Tx) error {
			return db.ReplaceHosts(ctx, tx, []ecs.Host{h("a-1", "az-a", 64), h("c-1", "az-c", 4)})
		})
		inTx(t, db, func(tx *sql.Tx) error {
			all, err := db.Hosts(ctx, tx, "")
			if err != nil {
				return err
			}
			want := []ecs.Host{h("a-1", "az-a", 64), h("a-2", "az-a", 32), h("c-1", "az-c", 4)}
			if diff := cmp.Diff(want, all); diff != "" {
				t.Errorf("Hosts after replace (-want +got):\n%s", diff)
			}
			inA, err := db.Hosts(ctx, tx, "az-a")
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want[:2], inA); diff != "" {
				t.Errorf("Hosts(az-a) (-want +got):\n%s", diff)
			}
			return nil
		})
	})
}

func TestClientTokens(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		inTx(t, db, func(tx *sql.Tx) error {
			if got, err := db.ClientToken(ctx, tx, project, "tok"); err != nil || got != "" {
				t.Errorf("ClientToken before Put = %q, %v; want \"\", nil", got, err)
			}
			return db.PutClientToken(ctx, tx, project, "tok", `{"JobID":"j1"}`, testTime.UnixNano())
		})
		inTx(t, db, func(tx *sql.Tx) error {
			if got, err := db.ClientToken(ctx, tx, project, "tok"); err != nil || got != `{"JobID":"j1"}` {
				t.Errorf("ClientToken = %q, %v; want the stored response", got, err)
			}
			// Tokens belong to a project.
			if got, err := db.ClientToken(ctx, tx, otherProject, "tok"); err != nil || got != "" {
				t.Errorf("ClientToken of another project = %q, %v; want \"\", nil", got, err)
			}
			if err := db.PutClientToken(ctx, tx, otherProject, "tok", `{"JobID":"j2"}`, 1); err != nil {
				t.Errorf("PutClientToken of the same token in another project: %v", err)
			}
			return nil
		})
		if err := failInTx(t, db, func(tx *sql.Tx) error {
			return db.PutClientToken(ctx, tx, project, "tok", `{"JobID":"j3"}`, 1)
		}); err == nil {
			t.Error("PutClientToken of an existing token succeeded")
		}
	})
}
