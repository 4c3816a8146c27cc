package meshrpc

import (
	"context"
	"math"
)

// GetOrders is mesh_getOrders(page, perPage, snapshotID): page (from 0) of
// the snapshot snapshotID, or of a new snapshot when snapshotID is "". A
// page past the end is empty and closes the snapshot, as Mesh's clients
// ask for one to know they are done.
func (a *api) GetOrders(ctx context.Context, page, perPage int, snapshotID string) (*getOrdersResponse, error) {
	s := a.s
	switch {
	case page < 0:
		return nil, invalidParams("page %d: want 0 or more", page)
	case perPage < 1 || perPage > s.limits.MaxPerPage:
		return nil, invalidParams("perPage %d: want 1 to %d", perPage, s.limits.MaxPerPage)
	case page > math.MaxInt/perPage:
		return nil, invalidParams("page %d: too far", page)
	}
	var sn *snapshot
	if snapshotID == "" {
		var err error
		sn, err = take(ctx, s.cfg.Store, connKey(ctx), s.cfg.Now())
		if err != nil {
			return nil, s.internalError("mesh_getOrders: snapshot", err)
		}
		if err := s.snaps.open(sn); err != nil {
			if err == errTooManySnapshots {
				return nil, err
			}
			return nil, s.internalError("mesh_getOrders: snapshot ID", err)
		}
	} else {
		var ok bool
		if sn, ok = s.snaps.get(snapshotID); !ok {
			return nil, errSnapshotNotFound
		}
	}
	infos := sn.page(page, perPage)
	if snapshotID != "" && page*perPage >= sn.len() {
		s.snaps.close(sn.id)
	}
	return &getOrdersResponse{SnapshotID: sn.id, SnapshotTimestamp: sn.taken.UTC(), OrdersInfos: infos}, nil
}
